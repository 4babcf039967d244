package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/nginxpeer"
)

// TestBenchWebUIVsNginx measures the BMC web UI through the whole gateway
// (HTTPS BMC host, BMC-host session, policy, BMC-side session, audit
// record) beside nginx as a plain HTTPS reverse proxy in front of the same
// upstream (the fake BMC web server, 1 KiB page), and the upstream
// directly: latency at fixed request rates (open loop, one new request
// every 1/rate s whatever the answers do), then throughput with 64
// connections in a closed loop. All three are driven by the same Go client
// over HTTP/1.1 with keep-alive. On demand only:
//
//	BMCGATE_BENCH=1 go test -run TestBenchWebUIVsNginx -v ./gateway/
//
// It needs the nginx binary (Debian package nginx).
func TestBenchWebUIVsNginx(t *testing.T) {
	if os.Getenv("BMCGATE_BENCH") == "" {
		t.Skip("benchmark: set BMCGATE_BENCH=1 to run")
	}
	nginxBin := nginxpeer.Binary(t)
	dur := 5 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BMCGATE_BENCH_DURATION")); err == nil {
		dur = d
	}
	w := startWebUI(t)
	w.fake.pages.Store("/bench", "<!doctype html><p>"+strings.Repeat("x", 1000)+"</p>\n")

	// The gateway: log in, open node01's web UI, keep its cookie.
	c := w.loginUI(t, "alice", "alice-password-1")
	_, loc := w.ticketURL(t, c, "node01")
	if resp, _ := get(t, c, loc); resp.StatusCode != http.StatusOK {
		t.Fatalf("enter: %d", resp.StatusCode)
	}
	gwURL := w.bmcURL("node01", "/bench")
	gwTr := w.uiTransport(t)
	gwTr.ForceAttemptHTTP2, gwTr.TLSNextProto = false, map[string]func(string, *tls.Conn) http.RoundTripper{}
	gwTr.MaxIdleConnsPerHost = 128
	pu, err := url.Parse(gwURL)
	if err != nil {
		t.Fatal(err)
	}
	var cookie string
	for _, ck := range c.Jar.Cookies(pu) {
		cookie = ck.Name + "=" + ck.Value
	}

	// The upstream directly, with a BMC session token of its own.
	upTr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 128} // the fake's self-signed cert, loopback only
	token := fakeLogin(t, upTr, w.fake.srv.URL)

	// nginx in front of it, HTTPS on both sides, the token added.
	dir := t.TempDir()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.fake.srv.TLS.Certificates[0].Certificate[0]})
	keyDER, err := x509.MarshalPKCS8PrivateKey(w.fake.srv.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o644))
	ngPort := benchFreePort(t)
	nginxpeer.Start(t, nginxpeer.Config{Bin: nginxBin, Dir: dir, HTTP: fmt.Sprintf(`
  upstream bmc { server %s; keepalive 64; }
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %[3]s/cert.pem;
    ssl_certificate_key %[3]s/key.pem;
    keepalive_requests 1000000;
    location / {
      proxy_pass https://bmc;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Auth-Token %[4]s;
      proxy_ssl_session_reuse on;
    }
  }`, strings.TrimPrefix(w.fake.srv.URL, "https://"), ngPort, dir, token)})
	ngURL := fmt.Sprintf("https://127.0.0.1:%d/bench", ngPort)

	targets := []benchTarget{
		{"upstream direct", w.fake.srv.URL + "/bench", upTr, map[string]string{"X-Auth-Token": token}},
		{"nginx proxy", ngURL, upTr, nil},
		{"bmcgate", gwURL, gwTr, map[string]string{"Cookie": cookie}},
	}
	for _, tg := range targets {
		if code := tg.once(t); code != http.StatusOK {
			t.Fatalf("%s: status %d", tg.name, code)
		}
	}
	for _, rate := range []int{20, 200} {
		t.Logf("fixed rate %d req/s for %s (open loop), 1 KiB page:", rate, dur)
		res := map[string]latencies{}
		for _, tg := range targets {
			res[tg.name] = tg.atRate(t, rate, dur)
		}
		d := res["upstream direct"]
		for _, tg := range targets {
			r := res[tg.name]
			t.Logf("  %-16s p50 %8s  p99 %8s  (added over direct: p50 %8s, p99 %8s; %d requests, %d errors)",
				tg.name, r.pct(50), r.pct(99), r.pct(50)-d.pct(50), r.pct(99)-d.pct(99), len(r.d), r.errs)
		}
	}
	// The closed loop runs in a process of its own (this test binary
	// again), as wrk would, so the client's CPU is not the gateway's.
	t.Logf("64 connections, closed loop from a separate client process, %s each:", dur)
	rps := map[string]float64{}
	for _, tg := range targets {
		r := tg.fromProcess(t, 64, dur)
		rps[tg.name] = r.RPS
		t.Logf("  %-16s %8.0f req/s  p50 %8s  p99 %8s  (%d errors)", tg.name, r.RPS, r.P50, r.P99, r.Errors)
	}
	t.Logf("bmcgate/nginx throughput at 64 connections: %.2fx (target >= 0.5x)", rps["bmcgate"]/rps["nginx proxy"])
}

// benchTarget is one URL with its transport and fixed headers.
type benchTarget struct {
	name string
	url  string
	tr   *http.Transport
	hdr  map[string]string
}

func (b benchTarget) do(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return 0, err
	}
	for k, v := range b.hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.tr.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (b benchTarget) once(t *testing.T) int {
	code, err := b.do(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", b.name, err)
	}
	return code
}

type latencies struct {
	d    []time.Duration
	errs int
}

func (l latencies) pct(p int) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// atRate sends rate requests per second for dur, each on its own
// goroutine (open loop), and returns their latencies.
func (b benchTarget) atRate(t *testing.T, rate int, dur time.Duration) latencies {
	var mu sync.Mutex
	var out latencies
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(dur)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		wg.Go(func() {
			start := time.Now()
			code, err := b.do(context.Background())
			el := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || code != http.StatusOK {
				out.errs++
				return
			}
			out.d = append(out.d, el)
		})
	}
	wg.Wait()
	return out
}

// closedLoop runs n workers sending requests back to back for dur.
func (b benchTarget) closedLoop(t *testing.T, n int, dur time.Duration) (int64, latencies) {
	var done atomic.Int64
	var mu sync.Mutex
	var lat latencies
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				start := time.Now()
				code, err := b.do(ctx)
				if err != nil || code != http.StatusOK {
					if ctx.Err() == nil {
						mu.Lock()
						lat.errs++
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, time.Since(start))
				done.Add(1)
			}
			mu.Lock()
			lat.d = append(lat.d, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return done.Load(), lat
}

// loadResult is what the client process reports.
type loadResult struct {
	RPS      float64
	P50, P99 time.Duration
	Errors   int
}

// fromProcess runs TestBenchWebUILoadClient in a child process against b.
func (b benchTarget) fromProcess(t *testing.T, conns int, dur time.Duration) loadResult {
	t.Helper()
	hdr, err := json.Marshal(b.hdr)
	if err != nil {
		t.Fatal(err)
	}
	dial := ""
	if u, err := url.Parse(b.url); err == nil {
		if host, port, _ := net.SplitHostPort(u.Host); strings.HasSuffix(host, ".localhost") {
			dial = "127.0.0.1:" + port
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchWebUILoadClient$", "-test.v")
	cmd.Env = append(os.Environ(), "BMCGATE_BENCH_CLIENT_URL="+b.url, "BMCGATE_BENCH_CLIENT_HEADERS="+string(hdr),
		"BMCGATE_BENCH_CLIENT_DIAL="+dial, "BMCGATE_BENCH_CLIENT_CONNS="+strconv.Itoa(conns), "BMCGATE_BENCH_CLIENT_DURATION="+dur.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client process for %s: %v\n%s", b.name, err, out)
	}
	_, res, ok := strings.Cut(string(out), "RESULT ")
	res, _, _ = strings.Cut(res, "\n")
	var r loadResult
	if !ok || json.Unmarshal([]byte(res), &r) != nil {
		t.Fatalf("client process for %s: no result:\n%s", b.name, out)
	}
	return r
}

// TestBenchWebUILoadClient is the client process of TestBenchWebUIVsNginx:
// a closed loop of GETs over HTTP/1.1 keep-alive connections (TLS
// certificates not checked: loopback benchmark peers only).
func TestBenchWebUILoadClient(t *testing.T) {
	target := os.Getenv("BMCGATE_BENCH_CLIENT_URL")
	if target == "" {
		t.Skip("the client process of TestBenchWebUIVsNginx")
	}
	var hdr map[string]string
	must(t, json.Unmarshal([]byte(os.Getenv("BMCGATE_BENCH_CLIENT_HEADERS")), &hdr))
	conns, err := strconv.Atoi(os.Getenv("BMCGATE_BENCH_CLIENT_CONNS"))
	must(t, err)
	dur, err := time.ParseDuration(os.Getenv("BMCGATE_BENCH_CLIENT_DURATION"))
	must(t, err)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: conns * 2,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	if dial := os.Getenv("BMCGATE_BENCH_CLIENT_DIAL"); dial != "" {
		d := &net.Dialer{Timeout: 5 * time.Second}
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dial)
		}
	}
	tg := benchTarget{name: "client", url: target, tr: tr, hdr: hdr}
	tg.once(t)
	n, lat := tg.closedLoop(t, conns, dur)
	out, _ := json.Marshal(loadResult{RPS: float64(n) / dur.Seconds(), P50: lat.pct(50), P99: lat.pct(99), Errors: lat.errs})
	fmt.Printf("RESULT %s\n", out)
}

// fakeLogin opens a session on the fake BMC web server and returns its
// token.
func fakeLogin(t *testing.T, tr *http.Transport, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/redfish/v1/SessionService/Sessions",
		strings.NewReader(`{"UserName":"gw","Password":"pw-node01"}`))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok := resp.Header.Get("X-Auth-Token")
	if tok == "" {
		t.Fatalf("fake BMC login: %d", resp.StatusCode)
	}
	return tok
}

func benchFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
