package configs

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Limits of the image library.
const (
	maxImages                 = 256
	DefaultImageURLLifetime   = 4 * time.Hour
	DefaultImageMaxConcurrent = 16
)

// Images is the library of installation images (ISO files) that the
// gateway serves to BMCs' virtual media. The section is optional; without
// it "media insert" is refused.
type Images struct {
	// Dir holds the image files; relative to the config file.
	Dir string `yaml:"dir"`
	// Listen is the image listener's host:port on the management side,
	// where BMCs fetch images.
	Listen string `yaml:"listen"`
	// URL is the listener's address as BMCs reach it,
	// https://HOST[:PORT] (http:// with plain_http); default from listen,
	// which then must name a host.
	URL string `yaml:"url"`
	// TLS is the listener's certificate; default web.tls (a self-signed
	// certificate when neither is given).
	TLS WebTLS `yaml:"tls"`
	// PlainHTTPDangerous serves images over plain HTTP, for BMCs that
	// cannot fetch over HTTPS. Anyone on the management network can then
	// read the images and the one-time URLs. Off by default.
	PlainHTTPDangerous bool `yaml:"plain_http_dangerous"`
	// URLLifetime bounds how long an inserted image's one-time URL stays
	// valid if it is never ejected (4h).
	URLLifetime Duration `yaml:"url_lifetime"`
	// MaxConcurrent bounds image downloads in flight, all BMCs together
	// (16).
	MaxConcurrent int `yaml:"max_concurrent"`
	// Files are the images: a name users type, the file in Dir, and its
	// SHA-256.
	Files []Image `yaml:"files"`

	enabled bool
}

// Image is one installation image.
type Image struct {
	// Name is what users type ("media insert BMC NAME"): a canonical name.
	Name string `yaml:"name"`
	// File is the file name in images.dir (default: Name); never a path.
	File string `yaml:"file"`
	// SHA256 is the file's SHA-256, 64 hex digits: checked at start and
	// before each insert.
	SHA256 string `yaml:"sha256"`
}

// Enabled reports whether an image library is configured.
func (im Images) Enabled() bool { return im.enabled }

// Path returns the image file's absolute path (after Load).
func (im Images) Path(i Image) string { return filepath.Join(im.Dir, i.File) }

// images checks the images section.
func (v *validator) images() {
	im := &v.c.Images
	im.enabled = v.present("images")
	if !im.enabled {
		return
	}
	if im.Dir == "" {
		v.probs.add("images.dir", "required: the directory holding the image files")
	} else {
		im.Dir = v.resolve(im.Dir)
		if !v.opts.SkipSecrets {
			if fi, err := os.Stat(im.Dir); err != nil || !fi.IsDir() {
				v.probs.add("images.dir", "not a readable directory")
			}
		}
	}
	v.imagesListen()
	v.certKeyPair("images.tls", &im.TLS)
	if im.PlainHTTPDangerous && (im.TLS.CertFile != "" || im.TLS.KeyFile != "") {
		v.probs.add("images.tls", "not used with plain_http_dangerous")
	}
	if im.TLS.CertFile == "" && !im.PlainHTTPDangerous {
		im.TLS = v.c.Web.TLS
	}
	v.checkDurations("images", []durationLimit{{"url_lifetime", &im.URLLifetime, DefaultImageURLLifetime, time.Minute, 7 * 24 * time.Hour}}, nil)
	v.checkInts("images", []intLimit{{"max_concurrent", &im.MaxConcurrent, DefaultImageMaxConcurrent, 1, 1024}}, nil)

	if len(im.Files) > maxImages {
		v.probs.add("images.files", "at most %d images", maxImages)
	}
	seen := map[string]string{}
	for i := range im.Files {
		img := &im.Files[i]
		field := indexPath("images.files", i)
		f := func(name string) string { return fieldPath(field, name) }
		switch err := checkName(img.Name, "image name", false); {
		case err != nil:
			v.probs.add(f("name"), "%v", err)
		case seen[img.Name] != "":
			v.probs.add(f("name"), "%s", dupMessage("image", img.Name, seen[img.Name]))
		default:
			seen[img.Name] = field
		}
		if img.File == "" {
			if v.present(f("file")) {
				v.probs.add(f("file"), "must not be empty: leave it out for the name")
			}
			img.File = img.Name
		}
		fileOK := true
		if msg := checkImageFile(img.File); msg != "" {
			v.probs.add(f("file"), "%s", msg)
			fileOK = false
		}
		h := strings.ToLower(img.SHA256)
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			v.probs.add(f("sha256"), "required: the file's SHA-256 as 64 hex digits (sha256sum prints it)")
		}
		img.SHA256 = h
		if fileOK && im.Dir != "" && !v.opts.SkipSecrets {
			if fi, err := os.Lstat(im.Path(*img)); err != nil || !fi.Mode().IsRegular() {
				v.probs.add(f("file"), "not a regular file in images.dir (symbolic links are refused)")
			}
		}
	}
}

// imagesListen checks listen and url.
func (v *validator) imagesListen() {
	im := &v.c.Images
	if im.Listen == "" {
		v.probs.add("images.listen", "required: host:port where BMCs fetch images, on the management network")
		return
	}
	if err := checkListenAddr(im.Listen); err != nil {
		v.probs.add("images.listen", "%v", err)
		return
	}
	for _, other := range []struct{ field, addr string }{{"listen.ssh", v.c.Listen.SSH}, {"listen.https", v.c.Listen.HTTPS}} {
		if other.addr != "" && other.addr == im.Listen {
			v.probs.add("images.listen", "same address as %s", other.field)
		}
	}
	scheme := "https"
	if im.PlainHTTPDangerous {
		scheme = "http"
	}
	if im.URL == "" {
		host, port, _ := net.SplitHostPort(im.Listen)
		if a, err := netip.ParseAddr(host); host == "" || err == nil && a.IsUnspecified() {
			v.probs.add("images.url", "required when images.listen names no host: the address BMCs fetch images from, like %s://10.0.0.1:%s", scheme, port)
			return
		}
		im.URL = scheme + "://" + net.JoinHostPort(host, port)
		return
	}
	u, err := url.Parse(im.URL)
	if err != nil || u.Scheme != scheme || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		v.probs.add("images.url", "want %s://HOST[:PORT] with no user, path, query or fragment", scheme)
		return
	}
	if err := checkHost(u.Hostname()); err != nil {
		v.probs.add("images.url", "%v", err)
		return
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			v.probs.add("images.url", "port %q is out of range 1-65535", p)
			return
		}
	}
	im.URL = strings.TrimSuffix(im.URL, "/")
}

// checkImageFile accepts a plain file name: no directory, no "..", no
// leading dot, no control characters or backslashes.
func checkImageFile(name string) string {
	switch {
	case len(name) > 255:
		return "longer than 255 bytes"
	case name == "." || name == ".." || strings.HasPrefix(name, "."):
		return "must not start with a dot"
	case strings.ContainsAny(name, "/\\"):
		return "a file name in images.dir, not a path"
	case hasControl(name):
		return "contains a control character"
	}
	return ""
}

// String names the image.
func (i Image) String() string { return fmt.Sprintf("image %s", i.Name) }
