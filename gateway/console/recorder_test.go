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
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

func (m *memLog) records() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.recs...)
}

func TestRecorderChunksAndTiming(t *testing.T) {
	log := &memLog{}
	failed := make(chan error, 1)
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleOutput, Fields: map[string]string{audit.FieldConsole: "c-x"}},
		func(err error) { failed <- err })
	start := time.Now()
	r.Write([]byte("hello"))
	for len(log.records()) == 0 {
		if time.Since(start) > 2*chunkFlushEvery {
			t.Fatal("a small write was not flushed within two flush periods")
		}
		time.Sleep(5 * time.Millisecond)
	}
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
	go v.pump(&out)
	time.Sleep(50 * time.Millisecond)
	v.cancel(errDetached)
	<-v.outDone
	if !bytes.Contains(out.Bytes(), []byte("bytes of output were skipped")) {
		t.Fatal("the viewer was not told about skipped output")
	}
}

// TestRecorderIdleHoldsNoGoroutine: the flusher runs only while there is
// something to write, the timer re-arms for every quiet-then-busy cycle,
// and Close flushes what is left.
func TestRecorderIdleHoldsNoGoroutine(t *testing.T) {
	log := &memLog{}
	r := newRecorder(log.append, audit.Record{Code: audit.CodeConsoleOutput}, func(err error) { t.Errorf("onFail: %v", err) })
	waitRecords := func(n int) {
		t.Helper()
		deadline := time.Now().Add(4 * chunkFlushEvery)
		for len(log.records()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d records, want %d within %s", len(log.records()), n, 4*chunkFlushEvery)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i, s := range []string{"first", "second", "third"} {
		r.Write([]byte(s))
		waitRecords(i + 1)
		r.mu.Lock()
		deadline := time.Now().Add(time.Second)
		for (r.flushing || r.timer != nil) && time.Now().Before(deadline) {
			r.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			r.mu.Lock()
		}
		busy := r.flushing || r.timer != nil
		r.mu.Unlock()
		if busy {
			t.Fatalf("cycle %d: flusher or timer still active while quiet", i)
		}
	}
	r.Write([]byte("last"))
	if !r.Close() || len(log.records()) != 4 {
		t.Fatalf("Close: %d records, want 4", len(log.records()))
	}
	if !r.Close() {
		t.Fatal("second Close reported a failure")
	}
}
