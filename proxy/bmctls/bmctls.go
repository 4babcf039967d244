// Package bmctls verifies the TLS certificates of BMCs, for every broker
// that speaks HTTPS to one (the web UI proxy, the Redfish broker).
//
// A BMC's certificate is nearly always self-signed for an IP address, so a
// [Verify] offers three ways, exactly one of which must be chosen: a pinned
// SHA-256 fingerprint of the leaf certificate (the pin replaces chain and
// name checks), a CA bundle with the name to check, or the explicit,
// flagged opt-out [Verify.InsecureSkipVerifyDangerous]. Client configs never
// go below TLS 1.2.
package bmctls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Verify is how a client verifies a BMC's certificate. Exactly one of
// PinSHA256, Roots and InsecureSkipVerifyDangerous must be set.
type Verify struct {
	// PinSHA256 is the SHA-256 fingerprint of the BMC's leaf certificate
	// (DER), as hex, colons and case ignored. The chain and name are not
	// checked: the pin is the trust.
	PinSHA256 string
	// Roots verifies the BMC's chain; ServerName (default: the host the
	// client connects to) is the name checked.
	Roots      *x509.CertPool
	ServerName string
	// InsecureSkipVerifyDangerous accepts any certificate. Anyone on the
	// path to the BMC can then read and change the traffic, including the
	// BMC session. For labs only.
	InsecureSkipVerifyDangerous bool
}

// Errors of [Verify.Check].
var (
	ErrBadPin     = errors.New("the certificate pin must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
	ErrNotOneMode = errors.New("set exactly one of a certificate pin, a CA bundle or insecure_skip_verify")
)

// Check reports whether exactly one verification is chosen and the pin, if
// any, parses.
func (v Verify) Check() error {
	n := 0
	if v.PinSHA256 != "" {
		n++
		if _, err := ParseFingerprint(v.PinSHA256); err != nil {
			return err
		}
	}
	if v.Roots != nil {
		n++
	}
	if v.InsecureSkipVerifyDangerous {
		n++
	}
	if n != 1 {
		return ErrNotOneMode
	}
	return nil
}

// ClientConfig returns the client TLS config toward a BMC at host (the name
// checked against a CA bundle when ServerName is empty). v must have passed
// Check; an unchecked Verify with nothing set skips verification, so callers
// always call Check first.
func (v Verify) ClientConfig(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case v.PinSHA256 != "":
		pin, _ := ParseFingerprint(v.PinSHA256) // checked by Check
		// The pin replaces chain and name verification: a BMC certificate is
		// nearly always self-signed for an IP address.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the BMC sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !bytes.Equal(sum[:], pin) {
				return fmt.Errorf("the BMC's certificate (SHA-256 %s) does not match the pinned fingerprint", Fingerprint(cs.PeerCertificates[0]))
			}
			return nil
		}
	case v.Roots != nil:
		cfg.RootCAs = v.Roots
		cfg.ServerName = v.ServerName
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	default:
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// ParseFingerprint parses a SHA-256 fingerprint written as 64 hex digits,
// optionally separated by colons, in any case.
func ParseFingerprint(s string) ([]byte, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	h = strings.TrimPrefix(h, "sha256/")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, ErrBadPin
	}
	return b, nil
}

// Fingerprint returns the SHA-256 fingerprint of a certificate's DER bytes
// as upper-case hex pairs separated by colons (the form openssl prints).
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// PeerCertificate is what a BMC presented on a TLS handshake.
type PeerCertificate struct {
	Leaf        *x509.Certificate
	Fingerprint string // SHA-256 of the leaf's DER, colon-separated hex
}

// FetchCertificate connects to addr (host:port) without verifying anything
// and returns the leaf certificate the BMC presents, for a person to check
// and pin. Nothing but the handshake is sent; dialTimeout bounds the TCP
// connect.
func FetchCertificate(ctx context.Context, addr string, dialTimeout time.Duration) (*PeerCertificate, error) {
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: dialTimeout},
		Config:    &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // shown to a person to verify
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil, fmt.Errorf("%s sent no certificate", addr)
	}
	leaf := cs.PeerCertificates[0]
	return &PeerCertificate{Leaf: leaf, Fingerprint: Fingerprint(leaf)}, nil
}
