package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// serveOnce asks srv for url's range from 127.0.0.1.
func serveOnce(srv *Server, url, rng string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	req.RemoteAddr = "127.0.0.1:5555"
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	srv.ServeHTTP(rec, req)
	return rec
}

// TestGrantServesTheHashedFile: a grant serves the file it hashed, held
// open, while nothing touches it. A file replaced under its path (on
// Linux the unlink moves the held file's change time) or written to in
// place is refused — even when the writer restores its size and
// modification time — and so is the next grant until the file matches.
func TestGrantServesTheHashedFile(t *testing.T) {
	img, data := testImage(t, "alma", 8192)
	lib, err := NewLibrary([]Image{img})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(lib, ServerOptions{BaseURL: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g, err := srv.Grant(t.Context(), "n", loopback, "alma")
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(g.URL, "https://127.0.0.1:1")
	for range 3 {
		if rec := serveOnce(srv, path, "bytes=100-199"); rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[100:200]) {
			t.Fatalf("range of the held file: %d", rec.Code)
		}
	}
	other := filepath.Join(filepath.Dir(img.Path), "other.iso")
	if err := os.WriteFile(other, bytes.Repeat([]byte{'z'}, len(data)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, img.Path); err != nil {
		t.Fatal(err)
	}
	if rec := serveOnce(srv, path, "bytes=100-199"); runtime.GOOS == "linux" && rec.Code != http.StatusServiceUnavailable ||
		rec.Code == http.StatusPartialContent && !bytes.Equal(rec.Body.Bytes(), data[100:200]) {
		t.Fatalf("after a rename over the path: %d", rec.Code)
	}
	if _, err := srv.Grant(t.Context(), "m", loopback, "alma"); err == nil {
		t.Fatal("a new grant of the replaced file was issued")
	}

	if runtime.GOOS != "linux" {
		return
	}
	// Written in place, size and modification time restored.
	img2, data2 := testImage(t, "rocky", 8192)
	lib2, _ := NewLibrary([]Image{img2})
	srv2, _ := NewServer(lib2, ServerOptions{BaseURL: "https://127.0.0.1:1"})
	defer srv2.Close()
	g2, err := srv2.Grant(t.Context(), "n", loopback, "rocky")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(img2.Path)
	f, err := os.OpenFile(img2.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{data2[0] ^ 0xff}, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(img2.Path, time.Time{}, fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(img2.Path); after.Size() != fi.Size() || !after.ModTime().Equal(fi.ModTime()) {
		t.Fatal("size or modification time not restored")
	}
	if rec := serveOnce(srv2, strings.TrimPrefix(g2.URL, "https://127.0.0.1:1"), "bytes=0-9"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a file written in place was served: %d", rec.Code)
	}
	if st := lib2.Statuses(); st[0].Verified || st[0].Problem != "changed since verified" {
		t.Errorf("status after the write: %+v", st[0])
	}
}

// TestRevokeClosesTheFile: ending a grant closes its file, and a fetch of
// the ended URL is refused.
func TestRevokeClosesTheFile(t *testing.T) {
	img, _ := testImage(t, "alma", 4096)
	lib, _ := NewLibrary([]Image{img})
	srv, _ := NewServer(lib, ServerOptions{BaseURL: "https://127.0.0.1:1"})
	g, err := srv.Grant(context.Background(), "n", loopback, "alma")
	if err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	var held *Checked
	for _, x := range srv.grants {
		held = x.file
	}
	srv.mu.Unlock()
	srv.Revoke("n")
	if _, err := held.ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("the ended grant's file is still open")
	}
	if rec := serveOnce(srv, strings.TrimPrefix(g.URL, "https://127.0.0.1:1"), ""); rec.Code != http.StatusNotFound {
		t.Errorf("fetch after revoke: %d", rec.Code)
	}
}

// discardWriter is a ResponseWriter that throws the body away (through
// ReadFrom, as a server connection's writer does).
type discardWriter struct {
	h   http.Header
	buf []byte
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{d}, r, d.buf)
}

// BenchmarkServeRange is the listener's own cost per 1 MiB range request
// (no network, no TLS): allocations and time.
func BenchmarkServeRange(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "img.iso")
	data := make([]byte, 8<<20)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	lib, _ := NewLibrary([]Image{{Name: "img", Path: path, SHA256: sha256hex(data)}})
	srv, _ := NewServer(lib, ServerOptions{BaseURL: "https://127.0.0.1:1"})
	defer srv.Close()
	g, err := srv.Grant(context.Background(), "n", loopback, "img")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(g.URL, "https://127.0.0.1:1"), nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("Range", "bytes=1048576-2097151")
	w := &discardWriter{h: http.Header{}, buf: make([]byte, 32<<10)}
	b.ReportAllocs()
	b.SetBytes(1 << 20)
	for b.Loop() {
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
