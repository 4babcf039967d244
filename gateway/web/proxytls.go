package web

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// Self-signed wildcard certificate files of the BMC hosts in the data
// directory.
const (
	proxyCertName = datadir.WebProxyCert
	proxyKeyName  = datadir.WebProxyKey
)

// loadProxyCertificate loads the configured wildcard certificate for
// *.domain, or the self-signed one in dataDir, generating it when it is
// missing or was made for another domain.
func loadProxyCertificate(certFile, keyFile, dataDir, domain string, log *slog.Logger) (tls.Certificate, error) {
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return c, fmt.Errorf("web proxy_tls certificate: %w", err)
		}
		return c, nil
	}
	wild := "*." + domain
	certFile, keyFile = filepath.Join(dataDir, proxyCertName), filepath.Join(dataDir, proxyKeyName)
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil && slices.Contains(leaf.DNSNames, wild) && time.Now().Before(leaf.NotAfter) {
			return c, nil
		}
	}
	c, sum, err := makeSelfSigned(certFile, keyFile, []string{wild})
	if err != nil {
		return c, err
	}
	log.Warn("generated a self-signed wildcard TLS certificate for the BMC web UIs; configure web.proxy_tls with a real one",
		"cert", certFile, "sha256", sum, "host", wild)
	return c, nil
}
