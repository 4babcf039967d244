package scan

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"time"
)

// WebInfo describes a BMC's HTTPS interface.
type WebInfo struct {
	URL        string    `json:"url"`
	Subject    string    `json:"subject,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	NotAfter   time.Time `json:"not_after"`
	SelfSigned bool      `json:"self_signed"`
	Versions   []string  `json:"tls_versions"` // accepted protocol versions
}

// tlsVersions are the versions the probe tries, oldest first.
var tlsVersions = []struct {
	v    uint16
	name string
}{{tls.VersionTLS10, "TLS1.0"}, {tls.VersionTLS11, "TLS1.1"}, {tls.VersionTLS12, "TLS1.2"}, {tls.VersionTLS13, "TLS1.3"}}

// ProbeWeb connects to an https URL once per TLS version and reports the
// certificate and the versions accepted, with findings. Nothing is sent
// beyond the handshake.
func ProbeWeb(ctx context.Context, rawURL string, timeout time.Duration, now time.Time) (*WebInfo, []Finding, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, nil, fmt.Errorf("web probe: %q is not an https URL", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	info := &WebInfo{URL: u.Redacted()}
	var leaf *x509.Certificate
	for _, tv := range tlsVersions {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{
			MinVersion: tv.v, MaxVersion: tv.v, ServerName: u.Hostname(),
			// The probe inspects the certificate itself below.
			InsecureSkipVerify: true, //nolint:gosec // inspection only, no data is exchanged
		}}
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			continue
		}
		info.Versions = append(info.Versions, tv.name)
		if st := c.(*tls.Conn).ConnectionState(); leaf == nil && len(st.PeerCertificates) > 0 {
			leaf = st.PeerCertificates[0]
		}
		_ = c.Close()
	}
	if leaf == nil {
		return info, nil, fmt.Errorf("web probe %s: no TLS handshake succeeded", info.URL)
	}
	info.Subject, info.Issuer, info.NotAfter = leaf.Subject.String(), leaf.Issuer.String(), leaf.NotAfter
	info.SelfSigned = selfSigned(leaf)
	var fs []Finding
	switch {
	case now.After(leaf.NotAfter):
		fs = append(fs, newFinding(IDTLSExpired, "certificate %q expired %s", info.Subject, leaf.NotAfter.UTC().Format(time.DateOnly)))
	case leaf.NotAfter.Sub(now) < 30*24*time.Hour:
		fs = append(fs, newFinding(IDTLSExpiring, "certificate %q expires %s", info.Subject, leaf.NotAfter.UTC().Format(time.DateOnly)))
	}
	if info.SelfSigned {
		fs = append(fs, newFinding(IDTLSSelfSigned, "certificate %q is signed by itself", info.Subject))
	}
	for _, v := range info.Versions {
		if v == "TLS1.0" || v == "TLS1.1" {
			fs = append(fs, newFinding(IDTLSOldProtocol, "handshake with %s succeeded", v))
			break
		}
	}
	return info, fs, nil
}

// ScanWeb adds the web interface at rawURL to r: the TLS details and
// findings, or a problem when the probe fails.
func (s *Scanner) ScanWeb(ctx context.Context, r *Report, rawURL string) {
	info, fs, err := ProbeWeb(ctx, rawURL, s.opts.Timeout, time.Now())
	if err != nil {
		r.Problems = append(r.Problems, "web interface: no TLS handshake succeeded")
		return
	}
	r.Web = info
	r.Findings = append(r.Findings, fs...)
}

// selfSigned reports whether c names itself as issuer and its own key
// verifies its signature. It does not ask for the CA bit, which the
// self-signed certificates BMCs make for themselves often lack
// (x509.Certificate.CheckSignatureFrom would refuse those).
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
