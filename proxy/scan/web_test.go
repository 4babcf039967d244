package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// testCert makes a certificate for 127.0.0.1, signed by parent (itself
// when parent is nil).
func testCert(t *testing.T, name string, notAfter time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA: isCA, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func tlsServer(t *testing.T, cert tls.Certificate, minVersion uint16) string {
	t.Helper()
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minVersion}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused old versions are expected
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.URL
}

func TestProbeWeb(t *testing.T) {
	now := time.Now()
	ca, caKey, _ := testCert(t, "Fleet CA", now.Add(5*365*24*time.Hour), nil, nil, true)
	_, _, good := testCert(t, "bmc-good", now.Add(200*24*time.Hour), ca, caKey, false)
	_, _, expiring := testCert(t, "bmc-soon", now.Add(10*24*time.Hour), ca, caKey, false)
	_, _, selfExpired := testCert(t, "bmc-old", now.Add(-24*time.Hour), nil, nil, false)

	for _, tc := range []struct {
		name string
		url  string
		want []string
	}{
		{"hardened", tlsServer(t, good, tls.VersionTLS12), nil},
		{"expiring", tlsServer(t, expiring, tls.VersionTLS12), []string{IDTLSExpiring}},
		{"self-signed, expired, TLS 1.0", tlsServer(t, selfExpired, tls.VersionTLS10), []string{IDTLSExpired, IDTLSSelfSigned, IDTLSOldProtocol}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, fs, err := ProbeWeb(context.Background(), tc.url, time.Second, now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v (info %+v)", got, tc.want, info)
			}
			if !slices.Contains(info.Versions, "TLS1.2") {
				t.Errorf("versions %v", info.Versions)
			}
		})
	}
	if _, _, err := ProbeWeb(context.Background(), "http://127.0.0.1:1/", time.Second, now); err == nil {
		t.Error("http URL accepted")
	}
}
