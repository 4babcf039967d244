package gateway

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/refusals"
)

// flood is a bounded pre-auth flood: workers that connect from one local
// address, say nothing and hold the socket until the server closes it,
// then connect again after a pause. It stops at maxDials, or when stopped.
type flood struct {
	dials, refused atomic.Int64 // connections made; closed by the server within a second
	held           atomic.Int64 // open right now
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	warm           chan struct{} // closed once every worker has connected once
}

func startFlood(t *testing.T, from, to string, workers int, maxDials int64) *flood {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	f := &flood{cancel: cancel, warm: make(chan struct{})}
	var started sync.WaitGroup
	started.Add(workers)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	for i := 0; i < workers; i++ {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			first := true
			for ctx.Err() == nil && f.dials.Add(1) <= maxDials {
				c, err := d.DialContext(ctx, "tcp", to)
				if first {
					started.Done()
					first = false
				}
				if err != nil {
					pause(ctx, 200*time.Millisecond)
					continue
				}
				f.held.Add(1)
				opened := time.Now()
				stop := context.AfterFunc(ctx, func() { _ = c.Close() })
				_, _ = io.Copy(io.Discard, c) // silent: read the banner, send nothing
				stop()
				_ = c.Close()
				f.held.Add(-1)
				if time.Since(opened) < time.Second {
					f.refused.Add(1)
				}
				// Pacing keeps the flood's CPU use bounded on a loaded
				// machine; each worker is still back long before the
				// handshake timeout frees a slot.
				pause(ctx, 300*time.Millisecond)
			}
			if first {
				started.Done()
			}
		}()
	}
	go func() { started.Wait(); close(f.warm) }()
	t.Cleanup(f.stop)
	return f
}

func (f *flood) stop() {
	f.cancel()
	f.wg.Wait()
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// TestE2EPreAuthFloodFromOneSource: 300 silent connections from 127.0.0.2,
// more than max_connections (256), held and renewed while real OpenSSH
// logs in from 127.0.0.1 and runs commands. The per-source pre-auth limit
// keeps the flood to its share; authenticated connections are counted
// apart; the audit log gets a handful of records, not one per drop.
func TestE2EPreAuthFloodFromOneSource(t *testing.T) {
	h := authHarness(t, "limits:\n  refusal_audit_interval: 1s\n")
	f := startFlood(t, "127.0.0.2", "127.0.0.1:"+h.port, 300, 20000)
	select {
	case <-f.warm:
	case <-time.After(60 * time.Second):
		t.Fatal("the flood did not start")
	}
	for i := 0; i < 3; i++ {
		out, errOut, code := h.ssh("alice", []string{"-b", "127.0.0.1"}, "whoami")
		if code != 0 {
			t.Fatalf("login %d during the flood: code %d\n%s\n%s", i, code, out, errOut)
		}
	}
	// An interactive session too, while the flood goes on.
	it := startInteractive(t, h, "alice")
	it.send("exit\n")
	<-it.done
	if f.refused.Load() < 100 {
		t.Fatalf("the flood was hardly refused (%d of %d dials): the test proves nothing", f.refused.Load(), f.dials.Load())
	}
	// One summary per interval carries the count of the drops.
	r := h.waitRecord(t, audit.Query{Code: audit.CodeSSHLimit}, func(r audit.Record) bool {
		n, _ := strconv.Atoi(r.Fields[refusals.FieldRepeats])
		return r.Source == "127.0.0.2" && r.Fields[refusals.FieldClass] == "per-source pre-auth limit" && n >= 10
	})
	t.Logf("summary: %s", r.Reason)
	f.stop()
	var fromFlood int
	for _, r := range h.records(t, audit.Query{}) {
		if refusals.SourceKey(r.Source) == "127.0.0.2" {
			fromFlood++
		}
	}
	// First occurrences plus one summary per class and second.
	if fromFlood > 200 || int64(fromFlood)*10 > f.dials.Load() {
		t.Fatalf("%d audit records for %d flood connections", fromFlood, f.dials.Load())
	}
	t.Logf("flood: %d connections, %d refused at once; %d audit records from its source", f.dials.Load(), f.refused.Load(), fromFlood)
}
