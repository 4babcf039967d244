package gateway

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// concurrently runs n calls of fn on workers goroutines and reports the
// latency percentiles and throughput as benchmark metrics.
func concurrently(b *testing.B, workers int, fn func(worker int) error) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	var failed atomic.Value
	n := int64(b.N)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				t0 := time.Now()
				if err := fn(w); err != nil {
					failed.Store(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	p := func(q float64) float64 { return ms(all[int(float64(len(all)-1)*q)]) }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
}

// BenchmarkWebAPIPowerStatus compares, in one run against one simulated BMC
// with a warm IPMI session, 64 concurrent clients asking for the power
// state through:
//
//	api-bearer:        HTTPS GET /api/v1/bmcs/node01/power, the provider's JWT access token as bearer
//	ssh-controlmaster: OpenSSH (one ControlMaster connection) "power status node01"
//
// Run: go test -run '^$' -bench BenchmarkWebAPIPowerStatus -benchtime 2000x ./gateway/
func BenchmarkWebAPIPowerStatus(b *testing.B) {
	// Room for 64 SSH sessions at once on the one master connection.
	w := startWeb(b, webOptions{extraWeb: providerTokenTypes, mutate: func(c *configs.Config) { c.Limits.MaxConnectionsPerUser = 128 }})
	tok, _ := opTokens(b, w, "alice", "alice-password-1")
	const workers = 64
	clients := make([]*http.Client, workers)
	for i := range clients {
		clients[i] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: w.pool}, ForceAttemptHTTP2: true}}
	}
	get := func(i int) error {
		req, _ := http.NewRequest(http.MethodGet, w.base+"/api/v1/bmcs/node01/power", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := clients[i].Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	}
	for i := range workers { // warm connections and the IPMI session
		if err := get(i); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("api-bearer", func(b *testing.B) { concurrently(b, workers, get) })

	ctl := filepath.Join(b.TempDir(), "ctl")
	master := exec.Command("ssh", append(w.sshArgs("alice", "-M", "-N", "-o", "ControlPath="+ctl,
		"-o", "ControlPersist=no"), "alice@127.0.0.1")...)
	if err := master.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = master.Process.Kill(); _ = master.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ssh", append(w.sshArgs("alice", "-o", "ControlPath="+ctl, "-O", "check"), "alice@127.0.0.1")...).Run() != nil {
		if time.Now().After(deadline) {
			b.Fatal("ssh control master did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	args := append(w.sshArgs("alice", "-o", "ControlPath="+ctl, "-o", "ControlMaster=no"), "alice@127.0.0.1", "power", "status", "node01")
	b.Run("ssh-controlmaster", func(b *testing.B) {
		concurrently(b, workers, func(int) error {
			out, err := exec.Command("ssh", args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "on") {
				return fmt.Errorf("ssh: %v: %s", err, out)
			}
			return nil
		})
	})
}

// BenchmarkWebDashboard1000 renders the dashboard of 1,000 BMCs for an
// admin, server side only (handler time, power state from a filled cache),
// first without stored scan reports, then with one per BMC (the posture
// panel). Target: < 200 ms per render.
//
// Run: go test -run '^$' -bench BenchmarkWebDashboard1000 ./gateway/
func BenchmarkWebDashboard1000(b *testing.B) {
	var more []testBMC
	for i := range 999 {
		more = append(more, testBMC{name: fmt.Sprintf("n%04d", i), addr: fmt.Sprintf("127.0.0.1:%d", 20000+i),
			user: "gw", pass: "pw", suite: 17, labels: fmt.Sprintf("{rack: r%d}", i%40)})
	}
	fake := oidcop.StartFake(b, "bmcgate")
	w := startWeb(b, webOptions{issuer: fake.Issuer, moreBMCs: more})
	c := w.client(b)
	get(b, c, fakeCallback(b, w, c, "/"))
	base, _ := url.Parse(w.base)
	var cookie *http.Cookie
	for _, k := range c.Jar.Cookies(base) {
		if k.Name == web.SessionCookie {
			cookie = k
		}
	}
	srv := w.g.Web()
	for _, m := range w.g.svc.State().Inventory.All() {
		srv.Cache().Set(m.Name, service.PowerEntry{State: ipmi.PowerStateOn, Health: "ok", At: time.Now()})
	}
	srv.Cache().MarkFresh()
	h := srv.Handler()
	render := func() int {
		req := httptest.NewRequest(http.MethodGet, w.base+"/", nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="bmc-`) != 1000 {
			b.Fatalf("dashboard: %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `<tr id="bmc-`))
		}
		return rec.Body.Len()
	}
	run := func(b *testing.B) {
		size := render()
		for b.Loop() {
			render()
		}
		b.ReportMetric(ms(b.Elapsed()/time.Duration(b.N)), "ms/render")
		b.ReportMetric(float64(size)/1024, "KiB/page")
	}
	b.Run("no-scans", run)
	store := scans.NewStore(w.harness.g.cfg.DataDir)
	for i, m := range w.g.svc.State().Inventory.All() {
		r := &scan.Report{BMC: m.Name, Reachable: true, Time: time.Now(), Findings: []scan.Finding{
			{ID: "sol-enabled", Severity: scan.Info}, {ID: "weak-suites", Severity: scan.High}}}
		if i%10 == 0 {
			r.Findings = append(r.Findings, scan.Finding{ID: "cipher-suite-0", Severity: scan.Critical})
		}
		if err := store.Save(r); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("scans", run)
}
