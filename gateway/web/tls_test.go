package web

import (
	"bytes"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestSelfSignedCertificateMadeOnce(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c1, err := loadCertificate("", "", dir, []string{"gw.example", "127.0.0.1"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logs.Bytes(), []byte("self-signed")) {
		t.Fatalf("no log line about the generated certificate: %s", logs.String())
	}
	st, err := os.Stat(filepath.Join(dir, selfKeyName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	logs.Reset()
	c2, err := loadCertificate("", "", dir, []string{"gw.example"}, log)
	if err != nil || !bytes.Equal(c1.Certificate[0], c2.Certificate[0]) || logs.Len() != 0 {
		t.Fatalf("certificate regenerated: %v", err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("gw.example"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if _, err := loadCertificate(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "missing.key"), dir, nil, log); err == nil {
		t.Fatal("missing configured certificate accepted")
	}
}
