package ipmi

import (
	"context"
	"hash/fnv"
	"sort"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// seedFor is a fixed seed per test, so a failing run can be repeated.
func seedFor(t testing.TB) uint64 {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return h.Sum64()
}

// TestBrokerLossyLinkIPMISim: power status through a link that loses 10 %
// of the datagrams each way: every call succeeds, by its deadline, because
// the session guard sends lost reads again.
func TestBrokerLossyLinkIPMISim(t *testing.T) {
	sim := ipmisim.StartT(t, ipmisim.Options{})
	link := startLossyLink(t, sim.Addr, 0.10, 2*time.Millisecond, seedFor(t))
	ep := endpointFor("lossy", link.addr(), 3)
	ep.Username, ep.Password = "admin", "password"
	const timeout = 10 * time.Second
	b := NewBroker(Options{CallTimeout: timeout})
	t.Cleanup(func() { _ = b.Close() })
	var took []time.Duration
	failed := 0
	for i := range 30 {
		start := time.Now()
		_, err := b.PowerStatus(context.Background(), ep)
		d := time.Since(start)
		took = append(took, d)
		if err != nil {
			failed++
			t.Errorf("call %d failed after %v: %v", i, d, err)
		}
		if d > timeout+500*time.Millisecond {
			t.Errorf("call %d took %v against a %v call timeout", i, d, timeout)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("30 calls, %d failed; p50 %v, max %v; relay dropped %d of %d datagrams; broker %+v",
		failed, took[15], took[29], link.dropped.Load(), link.dropped.Load()+link.forwarded.Load(), b.Stats())
}
