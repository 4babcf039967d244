package webui

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkServe measures one proxied GET through Serve (canonicalize,
// classify, authorize, rewrite, audit summary) to an in-process HTTPS
// upstream, next to a bare httputil.ReverseProxy on the same transport.
//
//	go test -run XXX -bench Serve -benchmem ./proxy/webui/
func BenchmarkServe(b *testing.B) {
	body := strings.Repeat("x", 1024)
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }))
	defer up.Close()
	p, err := New(Config{Name: "bench", URL: up.URL, TLS: TLS{PinSHA256: Fingerprint(up.Certificate())}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	sess := NewStaticSession(map[string]string{"X-Auth-Token": "t"}, nil)
	req := Request{PublicHost: "n1.bmc.test", Session: sess, Authorize: func(Operation) error { return nil }, Audit: func(Summary) {}}
	u, _ := url.Parse(up.URL)
	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }, Transport: p.transport, BufferPool: bufferPool{}}

	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := httptest.NewRequest("GET", "http://n1.bmc.test/redfish/v1/Systems/1?$expand=.", nil)
				r.Header.Set("Cookie", "a=b")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
	b.Run("bmcgate", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Serve(w, r, req) }))
	})
	b.Run("bare", func(b *testing.B) { run(b, bare) })
}
