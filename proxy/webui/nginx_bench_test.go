package webui

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/nginxpeer"
)

// TestBenchVsNginx compares this proxy with nginx as a plain reverse proxy
// in front of the same HTTPS upstream on loopback (an nginx server block
// returning a fixed 1 KiB body), measured with wrk at 64 connections.
// It runs on demand only:
//
//	BMCGATE_BENCH=1 go test -run TestBenchVsNginx -v ./proxy/webui/
//
// It needs the nginx and wrk binaries (Debian packages nginx and wrk).
func TestBenchVsNginx(t *testing.T) {
	if os.Getenv("BMCGATE_BENCH") == "" {
		t.Skip("benchmark: set BMCGATE_BENCH=1 to run")
	}
	nginxBin := nginxpeer.Binary(t)
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Fatal("wrk is not installed (apt-get install wrk)")
	}
	dur, rounds := 5*time.Second, 3
	if d, err := time.ParseDuration(os.Getenv("BMCGATE_BENCH_DURATION")); err == nil {
		dur = d
	}

	dir := t.TempDir()
	cert := newCert(t)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "key.pem"), "PRIVATE KEY", keyDER)
	upPort, ngPort := freePort(t), freePort(t)
	// Two nginx processes: the upstream, and nginx as the proxy, so that
	// both proxies sit in a process of their own in front of it.
	nginxpeer.Start(t, nginxpeer.Config{Bin: nginxBin, Dir: dir, Name: "upstream", HTTP: fmt.Sprintf(`
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %[2]s/cert.pem;
    ssl_certificate_key %[2]s/key.pem;
    keepalive_requests 1000000;
    location / { return 200 "%[3]s"; }
  }`, upPort, dir, strings.Repeat("x", 1024))})
	nginxpeer.Start(t, nginxpeer.Config{Bin: nginxBin, Dir: dir, Name: "proxy", HTTP: fmt.Sprintf(`
  upstream bmc { server 127.0.0.1:%d; keepalive 64; }
  server {
    listen 127.0.0.1:%d;
    keepalive_requests 1000000;
    location / {
      proxy_pass https://bmc;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_session_reuse on;
    }
  }`, upPort, ngPort)})

	p := mustNew(t, Config{
		Name:   "bench",
		URL:    fmt.Sprintf("https://127.0.0.1:%d", upPort),
		TLS:    TLS{PinSHA256: Fingerprint(cert.Leaf)},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	req := Request{PublicHost: "bench.bmc.test", Authorize: func(Operation) error { return nil }, Audit: func(Summary) {}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.Serve(w, r, req) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	// A bare httputil.ReverseProxy on the same transport shows what Go's
	// HTTP stack costs by itself.
	up, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", upPort))
	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(up) }, Transport: p.transport, BufferPool: bufferPool{}}
	lnBare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvBare := &http.Server{Handler: bare}
	go func() { _ = srvBare.Serve(lnBare) }()
	t.Cleanup(func() { _ = srvBare.Close() })

	// Rounds alternate the targets; the median round counts, which
	// damps the noise of a shared machine.
	var directs, ngs, bgs, bares []wrkResult
	for i := 0; i < rounds; i++ {
		directs = append(directs, runWrk(t, fmt.Sprintf("https://127.0.0.1:%d/", upPort), dur))
		ngs = append(ngs, runWrk(t, fmt.Sprintf("http://127.0.0.1:%d/redfish/v1/Systems", ngPort), dur))
		bgs = append(bgs, runWrk(t, "http://"+ln.Addr().String()+"/redfish/v1/Systems", dur))
		bares = append(bares, runWrk(t, "http://"+lnBare.Addr().String()+"/redfish/v1/Systems", dur))
	}
	direct, ng, bg, br := median(directs), median(ngs), median(bgs), median(bares)
	t.Logf("64 connections, median of %d rounds of %s, 1 KiB body, HTTPS upstream (nginx) on loopback", rounds, dur)
	t.Logf("%-22s %12s %10s %10s", "", "requests/s", "p50", "p99")
	for _, r := range []struct {
		name string
		res  wrkResult
	}{{"upstream direct (TLS)", direct}, {"nginx proxy", ng}, {"bmcgate proxy", bg}, {"bare Go ReverseProxy", br}} {
		t.Logf("%-22s %12.0f %10s %10s", r.name, r.res.rps, r.res.p50, r.res.p99)
	}
	ratio := bg.rps / ng.rps
	added := bg.p99 - direct.p99
	t.Logf("bmcgate/nginx throughput: %.2fx (target >= 0.8x); bmcgate p99 added over direct: %s (target < 2ms); nginx p99 added: %s",
		ratio, added, ng.p99-direct.p99)
}

// median returns the round with the median throughput.
func median(rs []wrkResult) wrkResult {
	s := append([]wrkResult(nil), rs...)
	sort.Slice(s, func(i, j int) bool { return s[i].rps < s[j].rps })
	return s[len(s)/2]
}

type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
}

var (
	wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPct = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func runWrk(t *testing.T, url string, dur time.Duration) wrkResult {
	t.Helper()
	out, err := exec.Command("wrk", "-t2", "-c64", "-d"+strconv.Itoa(int(dur.Seconds()))+"s", "--latency", url).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk %s: %v\n%s", url, err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		t.Logf("wrk %s reported errors:\n%s", url, out)
	}
	var r wrkResult
	if m := wrkRPS.FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	for _, m := range wrkPct.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[3])]
		d := time.Duration(v * float64(unit))
		if string(m[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.rps == 0 {
		t.Fatalf("cannot read wrk output:\n%s", out)
	}
	return r
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort picks a free TCP port on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
