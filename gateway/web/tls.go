package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// Self-signed certificate files inside the data directory.
const (
	selfCertName = datadir.WebCert
	selfKeyName  = datadir.WebKey
)

// loadCertificate loads the configured certificate, or the self-signed one
// in dataDir, generating it on first use for the given host names.
func loadCertificate(certFile, keyFile, dataDir string, hosts []string, log *slog.Logger) (tls.Certificate, error) {
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return c, fmt.Errorf("web tls certificate: %w", err)
		}
		return c, nil
	}
	certFile, keyFile = filepath.Join(dataDir, selfCertName), filepath.Join(dataDir, selfKeyName)
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("self-signed web certificate: %w", err)
	}
	c, sum, err := makeSelfSigned(certFile, keyFile, hosts)
	if err != nil {
		return c, err
	}
	log.Warn("generated a self-signed TLS certificate for the web door; browsers will warn until you configure web.tls with a real one",
		"cert", certFile, "sha256", sum, "hosts", hosts)
	return c, nil
}

// makeSelfSigned generates a certificate for hosts, writes it and its key
// (mode 0600) and returns it with its SHA-256 fingerprint, for the log.
func makeSelfSigned(certFile, keyFile string, hosts []string) (tls.Certificate, string, error) {
	certPEM, keyPEM, err := selfSigned(hosts, time.Now())
	if err != nil {
		return tls.Certificate{}, "", err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("write %s: %w", keyFile, err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("write %s: %w", certFile, err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return c, "", fmt.Errorf("self-signed certificate %s: %w", certFile, err)
	}
	sum := sha256.Sum256(c.Certificate[0])
	return c, hex.EncodeToString(sum[:]), nil
}

// selfSigned makes an ECDSA P-256 certificate valid for hosts for one year.
func selfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "bmcgate self-signed"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), nil
}
