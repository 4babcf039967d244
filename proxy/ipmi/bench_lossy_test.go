package ipmi

import (
	"context"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// BenchmarkLossyPowerStatus: power status through a link losing 10 % of the
// datagrams each way (2 ms per hop; see startLossyLink), the broker (warm
// session, 10 s call timeout) beside ipmitool with its own retries (a new
// session per call, as ipmitool always does). It reports the success rate
// and the latency percentiles of the successful calls.
// Run: go test -run '^$' -bench LossyPowerStatus -benchtime 100x ./proxy/ipmi
func BenchmarkLossyPowerStatus(b *testing.B) {
	ipmisim.RequireBinaries(b, "ipmitool")
	sim := ipmisim.StartT(b, ipmisim.Options{})
	link := startLossyLink(b, sim.Addr, 0.10, 2*time.Millisecond, 16)
	report := func(b *testing.B, ok int, took []time.Duration) {
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		b.ReportMetric(100*float64(ok)/float64(b.N), "success-%")
		if len(took) > 0 {
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
		}
	}
	b.Run("broker", func(b *testing.B) {
		ep := endpointFor("lossy", link.addr(), 3)
		ep.Username, ep.Password = "admin", "password"
		br := NewBroker(Options{})
		defer br.Close()
		_, _ = br.PowerStatus(context.Background(), ep) // warm up
		var took []time.Duration
		ok := 0
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			if _, err := br.PowerStatus(context.Background(), ep); err == nil {
				ok++
				took = append(took, time.Since(start))
			}
		}
		b.StopTimer()
		report(b, ok, took)
	})
	b.Run("ipmitool", func(b *testing.B) {
		port := link.addr()[strings.LastIndex(link.addr(), ":")+1:]
		var took []time.Duration
		ok := 0
		for range b.N {
			start := time.Now()
			out, err := exec.Command("ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", port,
				"-U", "admin", "-P", "password", "chassis", "power", "status").CombinedOutput()
			if err == nil && strings.Contains(string(out), "Chassis Power is") {
				ok++
				took = append(took, time.Since(start))
			}
		}
		report(b, ok, took)
	})
}
