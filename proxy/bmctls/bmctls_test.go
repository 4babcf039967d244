package bmctls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	pin := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		v    Verify
		want error
	}{
		{"pin", Verify{PinSHA256: pin}, nil},
		{"pin with colons, upper case", Verify{PinSHA256: strings.ToUpper(strings.Repeat("ab:", 31) + "ab")}, nil},
		{"CA bundle", Verify{Roots: x509.NewCertPool()}, nil},
		{"opt-out", Verify{InsecureSkipVerifyDangerous: true}, nil},
		{"nothing", Verify{}, ErrNotOneMode},
		{"two", Verify{PinSHA256: pin, InsecureSkipVerifyDangerous: true}, ErrNotOneMode},
		{"short pin", Verify{PinSHA256: "abcd"}, ErrBadPin},
		{"not hex", Verify{PinSHA256: strings.Repeat("zz", 32)}, ErrBadPin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Check(); !errors.Is(err, tt.want) {
				t.Fatalf("Check() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClientConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	other := selfSigned(t)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tests := []struct {
		name string
		v    Verify
		ok   bool
	}{
		{"pin matches", Verify{PinSHA256: Fingerprint(srv.Certificate())}, true},
		{"pin of another certificate", Verify{PinSHA256: Fingerprint(other)}, false},
		{"CA bundle", Verify{Roots: roots}, true},
		{"CA bundle, wrong name", Verify{Roots: roots, ServerName: "bmc.invalid"}, false},
		{"CA bundle without the issuer", Verify{Roots: x509.NewCertPool()}, false},
		{"opt-out", Verify{InsecureSkipVerifyDangerous: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Check(); err != nil {
				t.Fatal(err)
			}
			tr := &http.Transport{TLSClientConfig: tt.v.ClientConfig("127.0.0.1")}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("GET: %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && tt.v.PinSHA256 != "" && !strings.Contains(err.Error(), "does not match the pinned fingerprint") {
				t.Fatalf("pin mismatch error %q does not say so", err)
			}
		})
	}
}

func TestFetchCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	pc, err := FetchCertificate(t.Context(), srv.Listener.Addr().String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Fingerprint != Fingerprint(srv.Certificate()) {
		t.Fatalf("fingerprint %s, want %s", pc.Fingerprint, Fingerprint(srv.Certificate()))
	}
	b, err := ParseFingerprint(pc.Fingerprint)
	if err != nil || len(b) != 32 {
		t.Fatalf("ParseFingerprint(%s) = %x, %v", pc.Fingerprint, b, err)
	}
}

// selfSigned returns a certificate other than httptest's.
func selfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
