package configs

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/internal/bmcweb"
	"github.com/bmcgate/bmcgate/internal/oserr"
)

// Values of bmcs[i].web.host_header (package bmcweb's, shared with the
// web-UI proxy).
const (
	HostHeaderBMCAddress  = string(bmcweb.HostBMCAddress)
	HostHeaderBMCName     = string(bmcweb.HostBMCName)
	HostHeaderPassthrough = string(bmcweb.HostPassthrough)
)

// WebLoginNone means the gateway does not log in to the BMC's web UI: the
// user sees its login page.
const WebLoginNone = "none"

// WebLoginProfiles are the values of bmcs[i].web.login: "none", the
// standard Redfish session login, and the shipped vendor web-UI profiles
// (package proxy/webui; a gateway test keeps the two lists equal).
var WebLoginProfiles = []string{WebLoginNone, "redfish", "openbmc", "idrac9", "ilo5", "ilo6", "supermicro-x11"}

// Defaults and ranges of the web section of a BMC.
const (
	DefaultWebLogin          = "redfish"
	DefaultWebMaxSessions    = 4
	DefaultBMCWebIdleTimeout = 10 * time.Minute
	maxWebMaxSessions        = 64
	maxCAFile                = 1 << 20
)

// BMCWeb is how the gateway reaches one BMC's own web interface. The
// section is optional; without url the BMC has no web UI through bmcgate.
// The gateway logs in to the web UI with the BMC's ipmi username and
// password (BMC accounts are shared between IPMI and the web UI).
type BMCWeb struct {
	// URL is the BMC's web root: https://HOST[:PORT], no path.
	URL string    `yaml:"url"`
	TLS BMCWebTLS `yaml:"tls"`
	// HostHeader is bmc_address (default), bmc_name or passthrough.
	HostHeader string `yaml:"host_header"`
	// HostName is the Host sent in bmc_name mode (the BMC's DNS name).
	HostName string `yaml:"host_name"`
	// Login is none, redfish (default) or a vendor profile name.
	Login string `yaml:"login"`
	// ExtraPorts are further BMC ports (KVM, virtual media) to proxy.
	ExtraPorts []int `yaml:"extra_ports"`
	// RewriteBody rewrites absolute links to the BMC's address in HTML, JS
	// and CSS responses.
	RewriteBody bool `yaml:"rewrite_body"`
	// MaxSessions caps the BMC-side web sessions (default 4).
	MaxSessions int `yaml:"max_sessions"`
	// IdleTimeout logs out a BMC-side session unused this long (10m).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// RequestHeaders and ResponseHeaders name further headers this BMC's UI
	// needs passed, beyond the proxy's built-in allow-lists (a vendor's own
	// CSRF or session header). Identity, forwarding and hop-by-hop headers,
	// and those whose values the gateway decides, cannot be added (checked
	// by the gateway with the proxy's rules).
	RequestHeaders  []string `yaml:"request_headers"`
	ResponseHeaders []string `yaml:"response_headers"`

	caPool *x509.CertPool
}

// BMCWebTLS is how the BMC's certificate is verified: exactly one of
// PinSHA256, CAFile and InsecureSkipVerifyDangerous.
type BMCWebTLS struct {
	// PinSHA256 is the SHA-256 fingerprint of the BMC's certificate (as
	// "bmcgate pin" shows it): 64 hex digits, colons allowed.
	PinSHA256 string `yaml:"pin_sha256"`
	// CAFile is a PEM bundle of CA certificates that issued the BMC's
	// certificate; ServerName is the name checked (default: the URL host).
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerifyDangerous accepts any certificate. Labs only.
	InsecureSkipVerifyDangerous bool `yaml:"insecure_skip_verify_dangerous"`
}

// Enabled reports whether the BMC's web UI is proxied.
func (w BMCWeb) Enabled() bool { return w.URL != "" }

// CAPool returns the certificates of TLS.CAFile, read at load time (nil
// when there is no CA file or the config was loaded with SkipSecrets).
func (w BMCWeb) CAPool() *x509.CertPool { return w.caPool }

// bmcWeb checks one BMC's web section; field is its path ("bmcs[2].web").
func (v *validator) bmcWeb(field string, b *BMC) {
	w := &b.WebUI
	if !v.present(field) {
		return
	}
	f := func(name string) string { return fieldPath(field, name) }
	if w.URL == "" {
		v.probs.add(f("url"), "required: the BMC's web address, like https://10.0.0.5")
	} else if port, msg := checkWebURL(w.URL); msg != "" {
		v.probs.add(f("url"), "%s", msg)
	} else {
		seen := map[int]bool{port: true}
		for i, p := range w.ExtraPorts {
			pf := indexPath(f("extra_ports"), i)
			if err := bmcweb.CheckPort(p); err != nil {
				v.probs.add(pf, "%v", err)
			} else if seen[p] {
				v.probs.add(pf, "port %d is listed twice (or is the url's port)", p)
			}
			seen[p] = true
		}
	}
	v.bmcWebTLS(f("tls"), w)

	mode, err := bmcweb.ResolveHostMode(bmcweb.HostMode(w.HostHeader), w.HostName)
	switch {
	case errors.Is(err, bmcweb.ErrNoHostName):
		v.probs.add(f("host_name"), "%v", err)
	case err != nil:
		v.probs.add(f("host_header"), "%v", err)
	}
	w.HostHeader = string(mode)
	if w.HostName != "" {
		if err := checkHost(w.HostName); err != nil {
			v.probs.add(f("host_name"), "%v", err)
		}
	}

	switch {
	case w.Login == "" && !v.present(f("login")):
		w.Login = DefaultWebLogin
	case !slices.Contains(WebLoginProfiles, w.Login) && !v.hasWebProfile(w.Login):
		v.probs.add(f("login"), "unknown login: use one of %s, or a name from web_profiles", strings.Join(WebLoginProfiles, ", "))
	}

	v.headerNames(f("request_headers"), w.RequestHeaders)
	v.headerNames(f("response_headers"), w.ResponseHeaders)
	v.checkInts(field, []intLimit{{"max_sessions", &w.MaxSessions, DefaultWebMaxSessions, 1, maxWebMaxSessions}}, nil)
	v.checkDurations(field, []durationLimit{{"idle_timeout", &w.IdleTimeout, DefaultBMCWebIdleTimeout, time.Minute, 24 * time.Hour}}, nil)
}

// headerNames checks a list of HTTP header names: at most
// bmcweb.MaxExtraHeaders, each a valid name (RFC 9110 token) listed once,
// any case, and none the web-UI proxy never passes.
func (v *validator) headerNames(field string, names []string) {
	if len(names) > bmcweb.MaxExtraHeaders {
		v.probs.add(field, "at most %d header names", bmcweb.MaxExtraHeaders)
		return
	}
	seen := map[string]bool{}
	for i, n := range names {
		nf := indexPath(field, i)
		if n == "" || len(n) > 64 || strings.IndexFunc(n, func(r rune) bool { return r >= 0x80 || !bmcweb.IsTokenChar(byte(r)) }) >= 0 {
			v.probs.add(nf, "not a header name: 1 to 64 letters, digits and !#$%%&'*+-.^_`|~")
			continue
		}
		if seen[strings.ToLower(n)] {
			v.probs.add(nf, "%s is listed twice", n)
		} else if err := bmcweb.CheckExtraHeader(n); err != nil {
			v.probs.add(nf, "%v", err)
		}
		seen[strings.ToLower(n)] = true
	}
}

// bmcWebTLS checks the web section's certificate verification.
func (v *validator) bmcWebTLS(field string, w *BMCWeb) {
	w.caPool = v.tlsVerify(field, &w.TLS)
}

// tlsVerify checks that exactly one verification of a BMC's certificate is
// chosen (the web UI and the Redfish service share the rules) and returns
// the CA file's certificates, read unless SkipSecrets is set.
func (v *validator) tlsVerify(field string, t *BMCWebTLS) *x509.CertPool {
	var set []string
	var pool *x509.CertPool
	if t.PinSHA256 != "" {
		set = append(set, "pin_sha256")
		h := strings.ToLower(strings.ReplaceAll(t.PinSHA256, ":", ""))
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			v.probs.add(fieldPath(field, "pin_sha256"), "not a SHA-256 fingerprint: want 64 hex digits, colons allowed (run \"bmcgate pin\")")
		}
	}
	if t.CAFile != "" {
		set = append(set, "ca_file")
		t.CAFile = v.resolve(t.CAFile)
		if !v.opts.SkipSecrets {
			p, err := readCAFile(t.CAFile)
			if err != nil {
				v.probs.add(fieldPath(field, "ca_file"), "%v", err)
			}
			pool = p
		}
	}
	if t.ServerName != "" && t.CAFile == "" {
		v.probs.add(fieldPath(field, "server_name"), "only used with ca_file")
	}
	if t.InsecureSkipVerifyDangerous {
		set = append(set, "insecure_skip_verify_dangerous")
	}
	switch len(set) {
	case 0:
		v.probs.add(field, "set one of pin_sha256 (see \"bmcgate pin\"), ca_file or insecure_skip_verify_dangerous")
	case 1:
	default:
		v.probs.add(fieldPath(field, set[1]), "set only one of pin_sha256, ca_file and insecure_skip_verify_dangerous (found %s)", joinAnd(set))
	}
	return pool
}

// checkWebURL checks a BMC web URL and returns its port.
func checkWebURL(s string) (int, string) {
	host, port, err := bmcweb.ParseURL(s)
	if err != nil {
		return 0, err.Error()
	}
	if err := checkHost(host); err != nil {
		return 0, err.Error()
	}
	return port, ""
}

// readCAFile reads a PEM bundle of CA certificates.
func readCAFile(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file: %w", oserr.PathCause(err))
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxCAFile {
		return nil, fmt.Errorf("the CA file is not a regular file of at most %d bytes", maxCAFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file: %w", oserr.PathCause(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("the CA file holds no PEM certificate")
	}
	return pool, nil
}
