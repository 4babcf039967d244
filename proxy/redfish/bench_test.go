package redfish

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// BenchmarkRedfishWarmPowerStatus: power status over the warm session.
func BenchmarkRedfishWarmPowerStatus(b *testing.B) {
	s := startSim(b, bmcsim.RedfishOptions{})
	br := NewBroker(Options{})
	defer br.Close()
	ctx := context.Background()
	if _, err := br.PowerStatus(ctx, s.ep); err != nil {
		b.Fatal(err)
	}
	before := br.Stats()
	b.ResetTimer()
	for b.Loop() {
		if _, err := br.PowerStatus(ctx, s.ep); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(br.Stats().Logins-before.Logins), "logins")
}

// BenchmarkRedfishColdPowerStatus: TLS handshake, login, discovery, the
// call and the logout, every time.
func BenchmarkRedfishColdPowerStatus(b *testing.B) {
	s := startSim(b, bmcsim.RedfishOptions{})
	ctx := context.Background()
	for b.Loop() {
		br := NewBroker(Options{})
		if _, err := br.PowerStatus(ctx, s.ep); err != nil {
			b.Fatal(err)
		}
		_ = br.Close()
	}
	if n := s.rf.Sessions(); n != 0 {
		b.Fatalf("%d sessions left", n)
	}
}

// BenchmarkRedfishtoolSystems: Debian's redfishtool reading the system
// (one process per read: session login, the collection, the system,
// logout), against the same simulated BMC.
func BenchmarkRedfishtoolSystems(b *testing.B) {
	ipmisim.RequireBinaries(b, "redfishtool")
	s := startSim(b, bmcsim.RedfishOptions{})
	args := []string{"-r", s.rf.Addr(), "-u", simUser, "-p", simPass, "-S", "Always", "-A", "Session", "Systems", "-1"}
	for b.Loop() {
		out, err := exec.Command("redfishtool", args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"PowerState"`) {
			b.Fatalf("redfishtool: %v\n%s", err, out)
		}
	}
}

// BenchmarkSushyPowerState: python3-sushy re-reading the system over one
// session (its own timing, per read, reported as sushy-µs/read), against
// the same simulated BMC.
func BenchmarkSushyPowerState(b *testing.B) {
	py := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import sushy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv(ipmisim.RequirePeersEnv) != "" {
			b.Fatal("python3-sushy is required but no python3 imports it")
		}
		b.Skip("python3-sushy not installed")
	}
	s := startSim(b, bmcsim.RedfishOptions{})
	dir := b.TempDir()
	ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "pw")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.rf.Certificate().Raw}), 0o600)
	_ = os.WriteFile(pw, []byte(simPass), 0o600)
	var perRead float64
	for b.Loop() {
		cmd := exec.Command(py, "testdata/sushy_bench.py", s.rf.URL(), simUser, pw, ca, "200")
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "REQUESTS_CA_BUNDLE="+ca, "CURL_CA_BUNDLE="+ca)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("sushy: %v %s", err, out)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			b.Fatalf("sushy output %q", out)
		}
		perRead = v
	}
	b.ReportMetric(perRead, "sushy-µs/read")
}

// BenchmarkRedfishFanout500: power status over 500 simulated Redfish
// BMCs, 32 at a time: the first pass logs in to each (cold), the timed
// passes use the warm sessions.
func BenchmarkRedfishFanout500(b *testing.B) {
	const n, concurrency = 500, 32
	ctx := context.WithoutCancel(b.Context())
	eps := make([]Endpoint, 0, n)
	for i := range n {
		name := "rf" + strconv.Itoa(i)
		bm, err := bmcsim.Start(ctx, name, bmcsim.Options{Password: "ipmi-pw", PowerOn: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = bm.Close() })
		rf, err := bm.StartRedfish(ctx, bmcsim.RedfishOptions{Password: simPass})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rf.Close() })
		eps = append(eps, Endpoint{Name: name, URL: rf.URL(), Username: "admin", Password: simPass,
			TLS: bmctls.Verify{PinSHA256: bmctls.Fingerprint(rf.Certificate())}})
	}
	br := NewBroker(Options{})
	defer br.Close()
	pass := func() (time.Duration, []time.Duration) {
		lat := make([]time.Duration, n)
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		start := time.Now()
		for i, ep := range eps {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				if _, err := br.PowerStatus(ctx, ep); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(t0)
			}()
		}
		wg.Wait()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return time.Since(start), lat
	}
	wall, lat := pass()
	b.Logf("cold (TLS, login, discovery): wall %v, per-BMC p50 %v, p99 %v", wall.Round(time.Millisecond),
		lat[n/2].Round(10*time.Microsecond), lat[n*99/100].Round(10*time.Microsecond))
	var walls []time.Duration
	var all []time.Duration
	b.ResetTimer()
	for b.Loop() {
		w, l := pass()
		walls = append(walls, w)
		all = append(all, l...)
	}
	b.StopTimer()
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.Logf("warm: wall %v (median of %d), per-BMC p50 %v, p99 %v; %d logins for %d BMCs", walls[len(walls)/2].Round(time.Millisecond), len(walls),
		all[len(all)/2].Round(10*time.Microsecond), all[len(all)*99/100].Round(10*time.Microsecond), br.Stats().Logins, n)
}
