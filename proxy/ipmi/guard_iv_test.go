package ipmi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/types"
)

// ivRecorder collects the AES-CBC IVs of the encrypted in-session packets
// a client sends through a relay.
type ivRecorder struct {
	mu  sync.Mutex
	ivs []string
}

func (r *ivRecorder) hook(p []byte) bool {
	if h, ok := parseV2(p); ok && h.encrypted && h.sessionID != 0 && len(h.payload) >= 16 {
		r.mu.Lock()
		r.ivs = append(r.ivs, string(h.payload[:16]))
		r.mu.Unlock()
	}
	return true
}

func (r *ivRecorder) distinct() (all, unique int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, iv := range r.ivs {
		seen[iv] = true
	}
	return len(r.ivs), len(seen)
}

// TestOutboundIVsAreFresh: go-ipmi alone repeats its AES-CBC IV for every
// packet sent within the same second; through the session guard every
// packet on the wire has its own IV, and the BMC accepts them.
func TestOutboundIVsAreFresh(t *testing.T) {
	sim := startBMC(t, bmcsim.Options{})
	const calls = 20
	t.Run("control: the library alone repeats IVs", func(t *testing.T) {
		m := newMITM(t, sim.Addr())
		rec := &ivRecorder{}
		m.setToBMC(rec.hook)
		ep := endpointFor("iv", m.addr(), 3)
		c, err := client.NewClient(ep.Host, ep.Port, ep.Username, ep.Password)
		if err != nil {
			t.Fatal(err)
		}
		c.WithCipherSuiteID(types.CipherSuiteID3).WithMaxPrivilegeLevel(types.PrivilegeLevelOperator)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		for range calls {
			if _, err := c.GetChassisStatus(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if all, unique := rec.distinct(); unique == all {
			t.Skipf("the library sent %d distinct IVs in %d packets (fixed upstream?)", unique, all)
		}
	})
	t.Run("guarded: every packet has its own IV", func(t *testing.T) {
		m := newMITM(t, sim.Addr())
		rec := &ivRecorder{}
		m.setToBMC(rec.hook)
		ctx := t.Context()
		s, err := Dial(ctx, endpointFor("iv", m.addr(), 3), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		for range calls {
			if _, err := s.PowerStatus(ctx); err != nil {
				t.Fatal(err)
			}
		}
		all, unique := rec.distinct()
		if all < calls || unique != all {
			t.Fatalf("%d encrypted packets, %d distinct IVs", all, unique)
		}
	})
}
