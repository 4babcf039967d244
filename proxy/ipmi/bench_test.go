package ipmi

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// Run with: go test -run '^$' -bench . ./proxy/ipmi/

// benchSim starts ipmi_sim without the chassis-control script, so that
// power status measures the session path, not the cost of ipmi_sim
// starting a shell script per request (about 13 ms here).
func benchSim(b *testing.B) Endpoint {
	b.Helper()
	sim := ipmisim.StartT(b, ipmisim.Options{Users: ipmiSimUsers, NoChassisControl: true})
	return endpointFor("bench", sim.Addr, 3)
}

// BenchmarkWarmPowerStatus: power status over a pooled, already
// authenticated session (no handshake per call).
func BenchmarkWarmPowerStatus(b *testing.B) {
	ep := benchSim(b)
	br, hs := newTestBroker(b, Options{})
	ctx := context.Background()
	if _, err := br.PowerStatus(ctx, ep); err != nil {
		b.Fatal(err)
	}
	hs.Store(0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := br.PowerStatus(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(hs.Load())/float64(b.N), "handshakes/op")
}

// BenchmarkColdPowerStatus: Dial (full RMCP+ handshake), power status,
// Close Session.
func BenchmarkColdPowerStatus(b *testing.B) {
	ep := benchSim(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		s, err := Dial(ctx, ep, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.PowerStatus(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetDeviceID isolates the session cost: ipmi_sim answers Get
// Device ID itself, while every Get Chassis Status makes it start the
// chassis-control script, which dominates the power status figures.
func BenchmarkGetDeviceID(b *testing.B) {
	ep := benchSim(b)
	ctx := context.Background()
	ping := func(ctx context.Context, s *Session) error { return s.ping(ctx) }
	b.Run("warm", func(b *testing.B) {
		br, _ := newTestBroker(b, Options{})
		if err := br.do(ctx, ep, false, ping); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := br.do(ctx, ep, false, ping); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			s, err := Dial(ctx, ep, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.ping(ctx); err != nil {
				b.Fatal(err)
			}
			if err := s.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFanout200: power status on 200 simulated BMCs, 32 at a time.
// "cold" uses a new broker per round (200 handshakes), "warm" reuses the
// pooled sessions.
func BenchmarkFanout200(b *testing.B) {
	const n, bound = 200, 32
	fleet, err := bmcsim.StartFleet(context.Background(), n, "node", bmcsim.Options{Username: testUser, Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bmcsim.CloseAll(fleet) })
	eps := make([]Endpoint, n)
	for i, s := range fleet {
		eps[i] = endpointFor(s.Name(), s.Addr(), 17)
	}
	round := func(br *Broker) (time.Duration, []time.Duration) {
		lat := make([]time.Duration, n)
		sem := make(chan struct{}, bound)
		var wg sync.WaitGroup
		start := time.Now()
		for i, ep := range eps {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				if _, err := br.PowerStatus(context.Background(), ep); err != nil {
					b.Error(err)
				}
				lat[i] = time.Since(t0)
			}()
		}
		wg.Wait()
		return time.Since(start), lat
	}
	report := func(b *testing.B, walls []time.Duration, lats []time.Duration) {
		slices.Sort(lats)
		var sum time.Duration
		for _, w := range walls {
			sum += w
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(sum)/float64(len(walls)), "wall-ms/round")
		b.ReportMetric(ms(lats[len(lats)/2]), "p50-ms")
		b.ReportMetric(ms(lats[len(lats)*99/100]), "p99-ms")
	}
	b.Run("cold", func(b *testing.B) {
		var walls, lats []time.Duration
		for b.Loop() {
			br := NewBroker(Options{})
			w, l := round(br)
			br.Close()
			walls, lats = append(walls, w), append(lats, l...)
		}
		report(b, walls, lats)
	})
	b.Run("warm", func(b *testing.B) {
		br := NewBroker(Options{})
		defer br.Close()
		round(br)
		var walls, lats []time.Duration
		for b.Loop() {
			w, l := round(br)
			walls, lats = append(walls, w), append(lats, l...)
		}
		report(b, walls, lats)
	})
}
