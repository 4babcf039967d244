package webui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// ParseFingerprint parses a SHA-256 fingerprint written as 64 hex digits,
// optionally separated by colons, in any case.
func ParseFingerprint(s string) ([]byte, error) { return bmctls.ParseFingerprint(s) }

// Fingerprint returns the SHA-256 fingerprint of a certificate's DER bytes
// as upper-case hex pairs separated by colons (the form openssl prints).
func Fingerprint(cert *x509.Certificate) string { return bmctls.Fingerprint(cert) }

// newTransport returns the one transport used for a BMC.
func newTransport(c *Config, t *target) *http.Transport {
	dialTimeout := or(c.DialTimeout, DefaultDialTimeout)
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		// Never a proxy from the environment: traffic goes to the BMC only.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        c.TLS.ClientConfig(t.host),
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
type PeerCertificate = bmctls.PeerCertificate

// FetchCertificate connects to addr (host:port) without verifying anything
// and returns the leaf certificate the BMC presents, for a person to check
// and pin. Nothing but the handshake is sent.
func FetchCertificate(ctx context.Context, addr string) (*PeerCertificate, error) {
	pc, err := bmctls.FetchCertificate(ctx, addr, DefaultDialTimeout)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return pc, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
