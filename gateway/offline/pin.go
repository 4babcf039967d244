package offline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// PinOptions are the inputs of Pin.
type PinOptions struct {
	Config *configs.Config
	BMC    string // the BMC's name in the config
	// In answers the confirmation question; Out shows the certificate.
	In  io.Reader
	Out io.Writer
	// SSH pins the host key of the BMC's SSH console service instead of
	// a certificate.
	SSH bool
}

// ErrNotConfirmed: the person did not confirm the certificate.
var ErrNotConfirmed = errors.New("not confirmed: nothing was pinned")

// Pin fetches the certificate a BMC's web server presents, shows its
// subject, issuer, names, validity and SHA-256 fingerprint, asks for
// confirmation on In, and prints the config line that pins it. It never
// edits the config file: that file is the operator's, often under change
// control, and its comments and layout must survive; the printed line is
// pasted in and takes effect on the next reload.
func Pin(ctx context.Context, o PinOptions) error {
	var b *configs.BMC
	idx := -1
	for i := range o.Config.BMCs {
		if o.Config.BMCs[i].Name == o.BMC {
			b, idx = &o.Config.BMCs[i], i
		}
	}
	if b == nil {
		return fmt.Errorf("no BMC named %q in %s", o.BMC, o.Config.Path)
	}
	if o.SSH {
		return pinSSH(ctx, o, b, idx)
	}
	rawURL, section, cur := b.WebUI.URL, "web", b.WebUI.TLS.PinSHA256
	if !b.WebUI.Enabled() {
		if !b.Redfish.Enabled() {
			return fmt.Errorf("BMC %s has no web section: add bmcs[%d].web.url first", b.Name, idx)
		}
		// A Redfish BMC without a web section: pin its Redfish service.
		rawURL, section, cur = b.Redfish.URL, "redfish", b.Redfish.TLS.PinSHA256
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("BMC %s: bad %s url: %w", b.Name, section, err)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pc, err := webui.FetchCertificate(ctx, addr)
	if err != nil {
		return fmt.Errorf("BMC %s: %w", b.Name, err)
	}
	showCertificate(o.Out, b.Name, addr, pc)
	if cur != "" {
		if samePin(cur, pc.Leaf) {
			fmt.Fprintf(o.Out, "\nThis certificate is already pinned for %s.\n", b.Name)
			return nil
		}
		fmt.Fprintf(o.Out, "\nWARNING: this is NOT the pinned certificate (%s).\nIf the BMC's certificate was not renewed on purpose, someone may be intercepting its traffic.\n", cur)
	}
	fmt.Fprintf(o.Out, "\nCompare the fingerprint with the one the BMC shows on its console or local UI.\nPin this certificate for %s? [y/N] ", b.Name)
	line, err := bufio.NewReader(o.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read answer: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		fmt.Fprintln(o.Out)
		return ErrNotConfirmed
	}
	fmt.Fprintf(o.Out, "\nSet bmcs[%d].%s.tls in %s to:\n\n      tls:\n        pin_sha256: %q\n\nthen reload bmcgate (SIGHUP).\n", idx, section, o.Config.Path, pc.Fingerprint)
	return nil
}

// showCertificate prints what a person needs to judge a certificate.
func showCertificate(w io.Writer, name, addr string, pc *webui.PeerCertificate) {
	c := pc.Leaf
	fmt.Fprintf(w, "BMC %s (%s) presents:\n", name, addr)
	fmt.Fprintf(w, "  subject:  %s\n", printable(c.Subject.String()))
	fmt.Fprintf(w, "  issuer:   %s\n", printable(c.Issuer.String()))
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "  names:    %s\n", printable(strings.Join(names, ", ")))
	}
	fmt.Fprintf(w, "  valid:    %s to %s\n", c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly))
	if c.Subject.String() == c.Issuer.String() {
		fmt.Fprintln(w, "  (self-signed)")
	}
	fmt.Fprintf(w, "  SHA-256:  %s\n", pc.Fingerprint)
}

// samePin reports whether pin is the fingerprint of c.
func samePin(pin string, c *x509.Certificate) bool {
	want, err := webui.ParseFingerprint(pin)
	sum := sha256.Sum256(c.Raw)
	return err == nil && bytes.Equal(want, sum[:])
}

// printable keeps certificate text printable: a BMC chooses it.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
