package console

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

// memLog is an in-memory audit log that can be told to fail or stall.
type memLog struct {
	mu      sync.Mutex
	recs    []audit.Record
	fail    error
	stall   chan struct{}
	stalled chan struct{} // when set, receives once an append waits on stall
	// appended, when set, receives once per record appended.
	appended chan struct{}
}

func (m *memLog) append(ctx context.Context, r audit.Record) error {
	m.mu.Lock()
	stall, fail, stalled := m.stall, m.fail, m.stalled
	m.mu.Unlock()
	if stall != nil {
		if stalled != nil {
			select {
			case stalled <- struct{}{}:
			default:
			}
		}
		<-stall
	}
	if fail != nil {
		return fail
	}
	if len(r.Data) > audit.MaxDataSize {
		return errors.New("chunk too large")
	}
	m.mu.Lock()
	m.recs = append(m.recs, r)
	appended := m.appended
	m.mu.Unlock()
	if appended != nil {
		appended <- struct{}{}
	}
	return nil
}

// waitAppended waits for n more appends.
func (m *memLog) waitAppended(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-m.appended:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d records appended", i, n)
		}
	}
}

// manualTimers stands in for the recorder's flush timer: the test sees
// what was armed and fires it.
type manualTimers struct {
	mu    sync.Mutex
	d     time.Duration
	f     func()
	armed int
}

func (m *manualTimers) afterFunc(d time.Duration, f func()) stopper {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.d, m.f = d, f
	m.armed++
	return manualTimer{m}
}

type manualTimer struct{ m *manualTimers }

func (t manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	stopped := t.m.f != nil
	t.m.f = nil
	return stopped
}

// fire runs the armed timer's function, as its deadline would.
func (m *manualTimers) fire(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	f, d := m.f, m.d
	m.f = nil
	m.mu.Unlock()
	if f == nil {
		t.Fatal("no flush timer armed")
	}
	if d != chunkFlushEvery {
		t.Fatalf("flush timer of %s, want %s", d, chunkFlushEvery)
	}
	f()
}

func (m *memLog) records() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.recs...)
}

func TestRecorderChunksAndTiming(t *testing.T) {
	log := &memLog{appended: make(chan struct{}, 16)}
	failed := make(chan error, 1)
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleOutput, Fields: map[string]string{audit.FieldConsole: "c-x"}},
		func(err error) { failed <- err })
	timers := &manualTimers{}
	r.afterFunc = timers.afterFunc
	r.Write([]byte("hello"))
	if n := len(log.records()); n != 0 {
		t.Fatalf("%d records before the flush deadline", n)
	}
	timers.fire(t) // a small write is flushed at its deadline
	log.waitAppended(t, 1)
	big := bytes.Repeat([]byte("0123456789abcdef"), 6000) // 96 KB in one write: three chunks
	r.Write(big)
	if !r.Close() {
		t.Fatal("recording reported a failure")
	}
	var all []byte
	for _, rec := range log.records() {
		if len(rec.Data) > audit.MaxDataSize {
			t.Fatalf("chunk of %d bytes", len(rec.Data))
		}
		if rec.Fields[audit.FieldConsole] != "c-x" || rec.Fields["chunk"] == "" {
			t.Fatalf("chunk fields %v", rec.Fields)
		}
		fr, err := audit.ChunkFrames(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fr {
			all = append(all, f.Data...)
		}
	}
	if !bytes.Equal(all, append([]byte("hello"), big...)) {
		t.Fatalf("recorded %d bytes, want %d", len(all), 5+len(big))
	}
	select {
	case err := <-failed:
		t.Fatalf("onFail: %v", err)
	default:
	}
}

func TestRecorderFailureIsReported(t *testing.T) {
	log := &memLog{fail: errors.New("disk full")}
	failed := make(chan error, 1)
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleInput}, func(err error) { failed <- err })
	r.Write([]byte("x"))
	select {
	case <-failed:
	case <-time.After(2 * time.Second):
		t.Fatal("failure not reported")
	}
	if r.Close() {
		t.Fatal("Close reported success after a failure")
	}
}

// TestRecorderNeverBlocks: while the audit log stalls, writes return at
// once; when the backlog passes the chunk limit the recording fails
// instead of holding more memory.
func TestRecorderNeverBlocks(t *testing.T) {
	log := &memLog{stall: make(chan struct{}), stalled: make(chan struct{}, 1)}
	failed := make(chan error, 1)
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleOutput}, func(err error) { failed <- err })
	r.Write([]byte("first"))
	<-log.stalled // the flusher is now stuck in append
	start := time.Now()
	for range 200 {
		r.Write(bytes.Repeat([]byte("y"), 1024))
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("writes blocked for %s", d)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, errRecordingBehind) {
			t.Fatalf("failure %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("backlog beyond the chunk limit was not reported")
	}
	close(log.stall)
	r.Close()
}

func TestViewerSlowConsumerDrops(t *testing.T) {
	v := newViewer(context.Background(), callerFor("bob"), 1, false)
	start := time.Now()
	chunk := bytes.Repeat([]byte("z"), 4096)
	for range 200 { // 800 KiB with nobody reading
		v.send(chunk)
	}
	if time.Since(start) > time.Second {
		t.Fatal("send blocked")
	}
	v.mu.Lock()
	queued, dropped := len(v.queue), v.dropped
	v.mu.Unlock()
	if queued > maxViewerQueue || dropped == 0 {
		t.Fatalf("queued %d, dropped %d", queued, dropped)
	}
	var out bytes.Buffer
	v.cancel(errDetached) // the pump delivers what is queued before it stops
	go v.pump(&out)
	<-v.outDone
	if !bytes.Contains(out.Bytes(), []byte("bytes of output were skipped")) {
		t.Fatal("the viewer was not told about skipped output")
	}
}

// TestRecorderIdleHoldsNoGoroutine: the flusher runs only while there is
// something to write, the timer re-arms for every quiet-then-busy cycle,
// and Close flushes what is left.
func TestRecorderIdleHoldsNoGoroutine(t *testing.T) {
	log := &memLog{appended: make(chan struct{}, 16)}
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleOutput}, func(err error) { t.Errorf("onFail: %v", err) })
	timers := &manualTimers{}
	r.afterFunc = timers.afterFunc
	for i, s := range []string{"first", "second", "third"} {
		r.Write([]byte(s))
		if timers.armed != i+1 {
			t.Fatalf("cycle %d: flush timer armed %d times", i, timers.armed)
		}
		timers.fire(t)
		log.waitAppended(t, 1)
		r.mu.Lock()
		flushing, done := r.flushing, r.flushDone
		r.mu.Unlock()
		if flushing {
			<-done // the flusher ends once the log has the chunk
		}
		r.mu.Lock()
		busy := r.flushing || r.timer != nil
		r.mu.Unlock()
		if busy {
			t.Fatalf("cycle %d: flusher or timer still active while quiet", i)
		}
	}
	r.Write([]byte("flushed now"))
	r.flushNow() // no deadline needed: appended when it returns
	if n := len(log.records()); n != 4 {
		t.Fatalf("flushNow: %d records, want 4", n)
	}
	log.waitAppended(t, 1)
	r.mu.Lock()
	busy := r.flushing || r.timer != nil
	r.mu.Unlock()
	if busy {
		t.Fatal("flusher or timer still active after flushNow")
	}
	r.Write([]byte("last"))
	if !r.Close() || len(log.records()) != 5 {
		t.Fatalf("Close: %d records, want 5", len(log.records()))
	}
	if !r.Close() {
		t.Fatal("second Close reported a failure")
	}
}
