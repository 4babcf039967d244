package webui

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// publicHost is the BMC host name the browser uses in these tests.
const publicHost = "node01.bmc.test"

// fakeBMC is an httptest TLS server standing in for a BMC web interface.
type fakeBMC struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []*http.Request
}

func newFakeBMC(t *testing.T, h http.Handler) *fakeBMC {
	t.Helper()
	f := &fakeBMC{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits = append(f.hits, r.Clone(r.Context()))
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBMC) hostPort() string { return strings.TrimPrefix(f.srv.URL, "https://") }

func (f *fakeBMC) cert() *x509.Certificate { return f.srv.Certificate() }

func (f *fakeBMC) hitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.hits)
}

func (f *fakeBMC) lastHit() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hits) == 0 {
		return nil
	}
	return f.hits[len(f.hits)-1]
}

// pinnedConfig returns a config for f pinned to its certificate.
func pinnedConfig(f *fakeBMC) Config {
	return Config{
		Name:   "node01",
		URL:    f.srv.URL,
		TLS:    TLS{PinSHA256: Fingerprint(f.cert())},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// front serves p to test clients with a request template; audits are
// collected.
type front struct {
	srv    *httptest.Server
	mu     sync.Mutex
	audits []Summary
}

func newFront(t *testing.T, p *Proxy, tmpl Request) *front {
	t.Helper()
	fr := &front{}
	if tmpl.PublicHost == "" {
		tmpl.PublicHost = publicHost
	}
	if tmpl.Authorize == nil {
		tmpl.Authorize = func(Operation) error { return nil }
	}
	tmpl.Audit = func(s Summary) {
		fr.mu.Lock()
		fr.audits = append(fr.audits, s)
		fr.mu.Unlock()
	}
	fr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Serve(w, r, tmpl)
	}))
	t.Cleanup(fr.srv.Close)
	return fr
}

func (fr *front) lastAudit(t *testing.T) Summary {
	t.Helper()
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.audits) == 0 {
		t.Fatal("no audit summary")
	}
	return fr.audits[len(fr.audits)-1]
}

// do sends a request through the front and returns the response with its
// body read.
func (fr *front) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, fr.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func mustNew(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// denied is an authorize error with a user message.
type denied struct{ reason string }

func (d denied) Error() string       { return "denied: " + d.reason }
func (d denied) UserMessage() string { return d.reason }

func readBody(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) }

// newCert returns a fresh self-signed certificate for 127.0.0.1.
func newCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "bmc.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in time")
}
