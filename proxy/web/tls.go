package web

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
	"net/http"
	"strings"
	"time"
)

// ParseFingerprint parses a SHA-256 fingerprint written as 64 hex digits,
// optionally separated by colons, in any case.
func ParseFingerprint(s string) ([]byte, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	h = strings.TrimPrefix(h, "sha256/")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("the certificate pin must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
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

// tlsConfig returns the client TLS config toward one BMC.
func tlsConfig(c TLS, t *target) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case c.PinSHA256 != "":
		pin, _ := ParseFingerprint(c.PinSHA256) // checked by Config.target
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
	case c.Roots != nil:
		cfg.RootCAs = c.Roots
		cfg.ServerName = c.ServerName
		if cfg.ServerName == "" {
			cfg.ServerName = t.host
		}
	default:
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// newTransport returns the one transport used for a BMC.
func newTransport(c *Config, t *target) *http.Transport {
	dialTimeout := or(c.DialTimeout, DefaultDialTimeout)
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		// Never a proxy from the environment: traffic goes to the BMC only.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsConfig(c.TLS, t),
		TLSHandshakeTimeout:    dialTimeout,
		ResponseHeaderTimeout:  or(c.ResponseHeaderTimeout, DefaultResponseHeaderTimeout),
		MaxResponseHeaderBytes: DefaultMaxResponseHeader,
		MaxIdleConns:           DefaultMaxIdleConns,
		MaxIdleConnsPerHost:    DefaultMaxIdleConns,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		// BMC web servers speak HTTP/1.1; websockets need it.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// PeerCertificate is what a BMC presented on a TLS handshake.
type PeerCertificate struct {
	Leaf        *x509.Certificate
	Fingerprint string // SHA-256 of the leaf's DER, colon-separated hex
}

// FetchCertificate connects to addr (host:port) without verifying anything
// and returns the leaf certificate the BMC presents, for a person to check
// and pin. Nothing but the handshake is sent.
func FetchCertificate(ctx context.Context, addr string) (*PeerCertificate, error) {
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: DefaultDialTimeout},
		Config:    &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // shown to a person to verify
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: TLS handshake with %s: %w", addr, err)
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil, fmt.Errorf("web: %s sent no certificate", addr)
	}
	leaf := cs.PeerCertificates[0]
	return &PeerCertificate{Leaf: leaf, Fingerprint: Fingerprint(leaf)}, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
