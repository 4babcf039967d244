package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testImage writes an image of n pseudo-random bytes and returns its
// library entry.
func testImage(t *testing.T, name string, n int) (Image, []byte) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	path := filepath.Join(t.TempDir(), name+".iso")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return Image{Name: name, Path: path, SHA256: hex.EncodeToString(sum[:])}, data
}

// fetchLog collects the server's fetch reports.
type fetchLog struct {
	mu sync.Mutex
	f  []Fetch
}

func (l *fetchLog) add(f Fetch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f = append(l.f, f)
}

func (l *fetchLog) last(t *testing.T) Fetch {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.f) == 0 {
		t.Fatal("no fetch reported")
	}
	return l.f[len(l.f)-1]
}

type fixture struct {
	srv  *Server
	ts   *httptest.Server
	log  *fetchLog
	lib  *Library
	img  Image
	data []byte

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T, size int) *fixture {
	t.Helper()
	img, data := testImage(t, "debian-12", size)
	lib, err := NewLibrary([]Image{img})
	if err != nil {
		t.Fatal(err)
	}
	if err := lib.VerifyAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	fx := &fixture{log: &fetchLog{}, lib: lib, img: img, data: data, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fx.srv, err = NewServer(lib, ServerOptions{BaseURL: "https://" + ln.Addr().String(), OnFetch: fx.log.add, Now: fx.clock, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: fx.srv}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	fx.ts = ts
	return fx
}

func (fx *fixture) clock() time.Time {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.now
}

func (fx *fixture) advance(d time.Duration) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.now = fx.now.Add(d)
}

var loopback = []netip.Addr{netip.MustParseAddr("127.0.0.1")}

// client returns an HTTPS client for the fixture whose connections leave
// from local (a loopback address).
func (fx *fixture) client(local string) *http.Client {
	tr := fx.ts.Client().Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr}
}

func get(t *testing.T, c *http.Client, url, rng string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

func TestServeGrantedImage(t *testing.T) {
	fx := newFixture(t, 3<<20+17)
	g, err := fx.srv.Grant(t.Context(), "node01", loopback, "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.URL, fx.ts.URL+"/media/") || !strings.HasSuffix(g.URL, "/debian-12.iso") || g.Size != int64(len(fx.data)) {
		t.Fatalf("grant %+v", g)
	}
	c := fx.client("127.0.0.1")

	code, body, _ := get(t, c, g.URL, "")
	if code != http.StatusOK || !bytes.Equal(body, fx.data) {
		t.Fatalf("GET: %d, %d bytes", code, len(body))
	}
	f := fx.log.last(t)
	if f.BMC != "node01" || f.Image != "debian-12" || f.Client != "127.0.0.1" || f.Bytes != int64(len(fx.data)) || f.Status != 200 || f.Refused != "" {
		t.Errorf("fetch record %+v", f)
	}

	// Ranges, as BMCs read images.
	code, body, h := get(t, c, g.URL, "bytes=1048576-1049599")
	if code != http.StatusPartialContent || !bytes.Equal(body, fx.data[1<<20:1<<20+1024]) || h.Get("Content-Range") != fmt.Sprintf("bytes 1048576-1049599/%d", len(fx.data)) {
		t.Fatalf("range: %d, %d bytes, %q", code, len(body), h.Get("Content-Range"))
	}
	if f := fx.log.last(t); f.Bytes != 1024 || f.Range != "bytes=1048576-1049599" {
		t.Errorf("range record %+v", f)
	}
	code, _, _ = get(t, c, g.URL, fmt.Sprintf("bytes=%d-", len(fx.data)+10))
	if code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %d", code)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, g.URL, nil)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.ContentLength != int64(len(fx.data)) || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD: %v %+v", err, resp)
	}
	resp.Body.Close()

	// Ejected: the URL is dead.
	if !fx.srv.Revoke("node01") {
		t.Fatal("nothing revoked")
	}
	if code, _, _ := get(t, c, g.URL, ""); code != http.StatusNotFound {
		t.Errorf("after revoke: %d", code)
	}
	if f := fx.log.last(t); f.Refused != "unknown or expired URL" || f.BMC != "" {
		t.Errorf("refusal record %+v", f)
	}
}

func TestRefusals(t *testing.T) {
	fx := newFixture(t, 4096)
	g, err := fx.srv.Grant(t.Context(), "node01", []netip.Addr{netip.MustParseAddr("127.0.0.2")}, "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.Split(strings.TrimPrefix(g.URL, fx.ts.URL+"/media/"), "/")[0]
	// The BMC's own address is served...
	if code, body, _ := get(t, fx.client("127.0.0.2"), g.URL, ""); code != 200 || len(body) != 4096 {
		t.Fatalf("from the BMC's address: %d", code)
	}
	// ...any other is refused, with the same URL.
	other := fx.client("127.0.0.3")
	if code, body, _ := get(t, other, g.URL, ""); code != http.StatusForbidden || bytes.Contains(body, fx.data[:64]) {
		t.Errorf("from another address: %d", code)
	}
	if f := fx.log.last(t); f.Refused != "fetched from an address other than the BMC's" || f.Client != "127.0.0.3" || f.BMC != "node01" || f.Bytes > 64 {
		t.Errorf("record %+v", f)
	}
	c := fx.client("127.0.0.2")
	for _, path := range []string{
		"/media/" + token + "/../../../etc/passwd",
		"/media/" + token + "/other.iso",
		"/media/" + token,
		"/media/AAAA/debian-12.iso",
		"/media/" + token + "/debian-12.iso?x=1",
		"/" + fx.img.Path,
		"/media/" + strings.Repeat("A", 100) + "/debian-12.iso",
	} {
		if code, _, _ := get(t, c, fx.ts.URL+path, ""); code != http.StatusNotFound && code != http.StatusBadRequest {
			t.Errorf("%s: %d", path, code)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, g.URL, strings.NewReader("x"))
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// All download slots taken: 503, never queued without bound.
	fx.srv.slots <- struct{}{}
	fx.srv.slots <- struct{}{}
	if code, _, h := get(t, c, g.URL, ""); code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("when busy: %d", code)
	}
	<-fx.srv.slots
	<-fx.srv.slots

	// Expiry, by the injected clock.
	fx.advance(DefaultLifetime)
	if code, _, _ := get(t, c, g.URL, ""); code != http.StatusNotFound {
		t.Errorf("expired: %d", code)
	}
	if _, ok := fx.srv.Granted("node01"); ok {
		t.Error("expired grant still listed")
	}
}

func TestOneGrantPerBMC(t *testing.T) {
	fx := newFixture(t, 1024)
	g1, err := fx.srv.Grant(t.Context(), "node01", loopback, "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := fx.srv.Grant(t.Context(), "node01", loopback, "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	if g1.URL == g2.URL {
		t.Fatal("the same URL granted twice")
	}
	c := fx.client("127.0.0.1")
	if code, _, _ := get(t, c, g1.URL, ""); code != http.StatusNotFound {
		t.Errorf("replaced grant still served: %d", code)
	}
	if code, _, _ := get(t, c, g2.URL, ""); code != http.StatusOK {
		t.Errorf("new grant: %d", code)
	}
	if !fx.srv.Owns("node01", g2.URL) || fx.srv.Owns("node01", g1.URL) || fx.srv.Owns("node02", g2.URL) {
		t.Error("Owns")
	}
	if _, err := fx.srv.Grant(t.Context(), "node02", loopback, "debian-12"); err != nil {
		t.Fatal(err)
	}
	if n := fx.srv.RevokeIf(func(bmc string) bool { return bmc == "node02" }); n != 1 {
		t.Errorf("RevokeIf ended %d grants", n)
	}
	if _, ok := fx.srv.Granted("node02"); ok {
		t.Error("node02's grant survived RevokeIf")
	}
	if _, ok := fx.srv.Granted("node01"); !ok {
		t.Error("node01's grant was revoked too")
	}
	if _, err := fx.srv.Grant(t.Context(), "node01", nil, "debian-12"); !errors.Is(err, ErrNoAddress) {
		t.Errorf("no address: %v", err)
	}
	if _, err := fx.srv.Grant(t.Context(), "node01", loopback, "../debian-12"); !errors.Is(err, ErrUnknownImage) {
		t.Errorf("unknown image: %v", err)
	}
}

func TestChecksumAndChanges(t *testing.T) {
	img, data := testImage(t, "alma", 8192)
	bad := img
	bad.Name, bad.SHA256 = "bad", strings.Repeat("0", 64)
	lib, err := NewLibrary([]Image{img, bad})
	if err != nil {
		t.Fatal(err)
	}
	err = lib.VerifyAll(t.Context())
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "image bad") || strings.Contains(err.Error(), "image alma") {
		t.Fatalf("VerifyAll: %v", err)
	}
	st := lib.Statuses()
	if len(st) != 2 || st[0].Name != "alma" || !st[0].Verified || st[0].Size != 8192 || st[1].Verified || st[1].Problem != "checksum mismatch" {
		t.Errorf("statuses %+v", st)
	}
	srv, err := NewServer(lib, ServerOptions{BaseURL: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Grant(t.Context(), "n", loopback, "bad"); !errors.Is(err, ErrChecksum) {
		t.Errorf("grant of a bad image: %v", err)
	}
	g, err := srv.Grant(t.Context(), "n", loopback, "alma")
	if err != nil {
		t.Fatal(err)
	}
	// The file changes after the grant: not served, and the next grant
	// hashes it again and refuses it.
	data[0] ^= 0xff
	if err := os.WriteFile(img.Path, append(data, 'x'), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(g.URL, "https://127.0.0.1:1"), nil)
	req.RemoteAddr = "127.0.0.1:5555"
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.Len() > 100 {
		t.Errorf("changed file: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if _, err := srv.Grant(t.Context(), "n", loopback, "alma"); !errors.Is(err, ErrChecksum) {
		t.Errorf("grant after the change: %v", err)
	}
	// A symbolic link in place of the file is refused.
	link := filepath.Join(t.TempDir(), "link.iso")
	if err := os.Symlink(img.Path, link); err != nil {
		t.Fatal(err)
	}
	l2, _ := NewLibrary([]Image{{Name: "l", Path: link, SHA256: img.SHA256}})
	if _, err := l2.Verify(t.Context(), "l"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("symlink: %v", err)
	}
	// Cancelled hashing stops.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := lib.Verify(ctx, "alma"); err == nil {
		t.Error("verify with a cancelled context succeeded")
	}
	for _, bad := range [][]Image{{{Name: "x", Path: "/x", SHA256: "zz"}}, {{Name: "", Path: "/x", SHA256: img.SHA256}}, {img, img}} {
		if _, err := NewLibrary(bad); err == nil {
			t.Errorf("NewLibrary(%v) accepted", bad)
		}
	}
	if _, err := NewServer(lib, ServerOptions{BaseURL: "ftp://x"}); err == nil {
		t.Error("ftp base URL accepted")
	}
}

// TestCurlRanges fetches a granted image with curl, a client nobody here
// wrote, in two ranges and whole.
func TestCurlRanges(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("BMCGATE_REQUIRE_PEERS") == "1" {
			t.Fatal("curl not found")
		}
		t.Skip("curl not found")
	}
	fx := newFixture(t, 2<<20+5)
	g, err := fx.srv.Grant(t.Context(), "node01", loopback, "debian-12")
	if err != nil {
		t.Fatal(err)
	}
	curl := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "curl", append([]string{"-sS", "-k", "--fail", "--noproxy", "*"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return out
	}
	a := curl("-r", "0-1048575", g.URL)
	b := curl("-r", "1048576-", g.URL)
	if !bytes.Equal(append(a, b...), fx.data) {
		t.Errorf("ranges: %d + %d bytes", len(a), len(b))
	}
	if whole := curl(g.URL); !bytes.Equal(whole, fx.data) {
		t.Errorf("whole: %d bytes", len(whole))
	}
}
