package console

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// allowAll is a Service that knows one BMC and allows everything.
type allowAll struct {
	st *service.State

	mu   sync.Mutex
	recs []audit.Record
}

func newAllowAll(t *testing.T) *allowAll {
	inv, err := service.NewInventory([]*service.BMC{{Name: "node01"}})
	if err != nil {
		t.Fatal(err)
	}
	return &allowAll{st: &service.State{Inventory: inv}}
}

func (a *allowAll) State() *service.State { return a.st }
func (a *allowAll) Decide(_ context.Context, _ service.Caller, act authz.Action, tg authz.Target) (authz.Decision, error) {
	return authz.Decision{Allowed: true, Action: act, Target: tg.Name}, nil
}
func (a *allowAll) Permits(_ service.Caller, act authz.Action, name string) (authz.Decision, *service.BMC) {
	b, _ := a.st.Inventory.Lookup(name)
	return authz.Decision{Allowed: true, Action: act, Target: name}, b
}
func (a *allowAll) Audit(_ context.Context, r audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
	return nil
}

// fakeLine is a console transport in memory: it is active at once, prints
// a banner, and keeps what was typed.
type fakeLine struct {
	ev     LineEvents
	mu     sync.Mutex
	typed  bytes.Buffer
	gotIn  chan struct{}
	closed bool
}

func (l *fakeLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.typed.Write(p)
	l.mu.Unlock()
	select {
	case l.gotIn <- struct{}{}:
	default:
	}
	return len(p), nil
}
func (l *fakeLine) Break()           {}
func (l *fakeLine) Takeover()        {}
func (l *fakeLine) State() LineState { return LineActive }
func (l *fakeLine) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.ev.OnStatus(LineStatus{State: LineClosed})
}

// keys is a KeySource fed by the test.
type keys struct {
	ch     chan []byte
	closed chan struct{}
}

func (k keys) Keys() ([]byte, <-chan []byte, <-chan struct{}) { return nil, k.ch, k.closed }

// syncBuffer is an io.Writer safe for the hub's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	got chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	select {
	case b.got <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHubOverAnyLine: the hub shares whatever line its Opener returns —
// output reaches the viewer, typed input reaches the line, "~." detaches
// and the last viewer leaving closes the line (the scrollback holds the
// banner should it come before the viewer is live) — so another console
// transport plugs in as an Opener with no door change.
func TestHubOverAnyLine(t *testing.T) {
	svc := newAllowAll(t)
	var line *fakeLine
	opened := make(chan *fakeLine, 1)
	h := New(svc, Config{Scrollback: 4096, Open: func(b *service.BMC, ev LineEvents) (Line, int) {
		line = &fakeLine{ev: ev, gotIn: make(chan struct{}, 1)}
		go ev.OnStatus(LineStatus{State: LineActive, Msg: "console active"})
		opened <- line
		return line, 1024
	}})
	defer h.Close()

	out := &syncBuffer{got: make(chan struct{}, 1)}
	k := keys{ch: make(chan []byte), closed: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- h.Attach(context.Background(), callerFor("alice"), "node01", Terminal{In: k, Out: out}, false)
	}()

	l := <-opened
	deadline := time.After(10 * time.Second)
	// The config keeps no scrollback, so output reaches only viewers who
	// are live. The banner is queued in the same critical section that
	// makes the viewer live, and the line's output callback takes that
	// lock too: output sent once the banner shows reaches the viewer.
	for !strings.Contains(out.String(), "to detach]") {
		select {
		case <-out.got:
		case <-deadline:
			t.Fatalf("no banner; viewer saw %q", out.String())
		}
	}
	l.ev.OnOutput([]byte("BIOS v1.0\r\n"))
	for !strings.Contains(out.String(), "BIOS v1.0") {
		select {
		case <-out.got:
		case <-deadline:
			t.Fatalf("viewer saw %q", out.String())
		}
	}
	k.ch <- []byte("root\r")
	for {
		l.mu.Lock()
		typed := l.typed.String()
		l.mu.Unlock()
		if typed == "root\r" {
			break
		}
		select {
		case <-l.gotIn:
		case <-deadline:
			t.Fatalf("line got %q", typed)
		}
	}
	k.ch <- []byte("~.")
	select {
	case <-done:
	case <-deadline:
		t.Fatal("~. did not detach")
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if !closed || line != l {
		t.Error("the last viewer left, the line stays open")
	}
}
