package refusals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

// memLog is an in-memory Writer.
type memLog struct {
	mu   sync.Mutex
	recs []audit.Record
	fail bool
}

func (m *memLog) Audit(_ context.Context, r audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("disk full")
	}
	m.recs = append(m.recs, r)
	return nil
}

func (m *memLog) take() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.recs
	m.recs = nil
	sort.Slice(out, func(i, j int) bool { return out[i].Source+out[i].Reason < out[j].Source+out[j].Reason })
	return out
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func fail(src, reason string) audit.Record {
	return audit.Record{Code: audit.CodeAuthFail, Door: "ssh", Source: src, Outcome: audit.OutcomeFail, Reason: reason,
		Session: "s-" + src, Fields: map[string]string{"kind": "auth"}}
}

func TestFirstAtOnceRepeatsSummarised(t *testing.T) {
	log := &memLog{}
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := New(log, Options{Now: clk.now})
	ctx := context.Background()

	if err := a.Note(ctx, "handshake timed out", fail("192.0.2.7:4000", "handshake timed out after 10s")); err != nil {
		t.Fatal(err)
	}
	got := log.take()
	if len(got) != 1 || got[0].Session != "s-192.0.2.7:4000" || got[0].Source != "192.0.2.7:4000" {
		t.Fatalf("first record not written as given: %+v", got)
	}
	clk.t = clk.t.Add(time.Second)
	for i := 0; i < 1000; i++ {
		_ = a.Note(ctx, "handshake timed out", fail(fmt.Sprintf("192.0.2.7:%d", 4001+i), fmt.Sprintf("attempt %d", i)))
	}
	if got := log.take(); len(got) != 0 {
		t.Fatalf("repeats written at once: %d records", len(got))
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got = log.take()
	if len(got) != 1 {
		t.Fatalf("want one summary, got %+v", got)
	}
	s := got[0]
	if s.Code != audit.CodeAuthFail || s.Door != "ssh" || s.Outcome != audit.OutcomeFail || s.Source != "192.0.2.7" ||
		s.Session != "" || s.Fields[FieldRepeats] != "1000" || s.Fields[FieldClass] != "handshake timed out" ||
		s.Fields[FieldLastReason] != "attempt 999" || s.Fields[FieldLastSource] != "192.0.2.7:5000" ||
		s.Fields[FieldSince] != "2030-01-02T03:04:06Z" || s.Fields["kind"] != "auth" {
		t.Fatalf("summary %+v", s)
	}
	// Still active: the next repeat is counted, not written at once.
	_ = a.Note(ctx, "handshake timed out", fail("192.0.2.7:6000", "again"))
	if got := log.take(); len(got) != 0 {
		t.Fatalf("repeat after a summary written at once: %+v", got)
	}
	_ = a.Flush(ctx)
	if got := log.take(); len(got) != 1 || got[0].Fields[FieldRepeats] != "1" {
		t.Fatalf("second summary %+v", got)
	}
	// A whole interval without events forgets the kind: nothing to write,
	// and the next event is a first occurrence again.
	_ = a.Flush(ctx)
	_ = a.Flush(ctx)
	if got := log.take(); len(got) != 0 {
		t.Fatalf("quiet interval wrote %+v", got)
	}
	_ = a.Note(ctx, "handshake timed out", fail("192.0.2.7:7000", "later"))
	if got := log.take(); len(got) != 1 || got[0].Reason != "later" {
		t.Fatalf("event after a quiet interval: %+v", got)
	}
}

func TestKindsAreKeptApart(t *testing.T) {
	log := &memLog{}
	a := New(log, Options{})
	ctx := context.Background()
	notes := []struct {
		class string
		r     audit.Record
	}{
		{"c1", fail("192.0.2.1:1", "a")},
		{"c1", fail("192.0.2.1:2", "a")},         // same kind: counted
		{"c2", fail("192.0.2.1:3", "b")},         // other class
		{"c1", fail("192.0.2.2:1", "a")},         // other source
		{"c1", fail("[2001:db8::1]:22", "v6")},   // IPv6 ...
		{"c1", fail("[2001:db8::ff]:22", "v6b")}, // ... same /64: counted
		{"c1", fail("[2001:db8:0:1::1]:22", "other /64")},
	}
	other := fail("192.0.2.1:9", "a")
	other.Actor = "alice"
	notes = append(notes, struct {
		class string
		r     audit.Record
	}{"c1", other}) // other actor
	other.Code = audit.CodeSSHRefused
	notes = append(notes, struct {
		class string
		r     audit.Record
	}{"c1", other}) // other code
	for _, n := range notes {
		_ = a.Note(ctx, n.class, n.r)
	}
	if got := log.take(); len(got) != 7 {
		t.Fatalf("want 7 first occurrences, got %d: %+v", len(got), got)
	}
	_ = a.Flush(ctx)
	got := log.take()
	if len(got) != 2 || got[0].Source != "192.0.2.1" || got[1].Source != "2001:db8::/64" {
		t.Fatalf("summaries %+v", got)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	log := &memLog{}
	a := New(log, Options{MaxKeys: 10})
	ctx := context.Background()
	for i := 0; i < 5000; i++ {
		_ = a.Note(ctx, "c", fail(fmt.Sprintf("10.0.%d.%d:22", i/256, i%256), "x"))
	}
	if got := log.take(); len(got) != 10 {
		t.Fatalf("first occurrences beyond MaxKeys were written: %d", len(got))
	}
	if n := len(a.entries); n != 10 {
		t.Fatalf("%d kinds held", n)
	}
	_ = a.Flush(ctx)
	got := log.take()
	if len(got) != 1 || got[0].Fields[FieldRepeats] != "4990" || got[0].Source != "" {
		t.Fatalf("overflow summary %+v", got)
	}
	// The itemised kinds saw no repeat and are forgotten after one more
	// quiet interval, which frees the table.
	_ = a.Flush(ctx)
	if n := len(a.entries); n != 0 {
		t.Fatalf("%d kinds still held after a quiet interval", n)
	}
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'x'
	}
	_ = a.Note(ctx, string(long), fail("10.9.9.9:1", "x"))
	for k := range a.entries {
		if len(k.class) > maxClassLen {
			t.Fatalf("class of %d bytes held", len(k.class))
		}
	}
}

func TestCloseFlushesAndWritesDirectly(t *testing.T) {
	log := &memLog{}
	a := New(log, Options{Interval: time.Hour})
	ctx := context.Background()
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	_ = a.Note(ctx, "c", fail("192.0.2.1:1", "a"))
	_ = a.Note(ctx, "c", fail("192.0.2.1:2", "a"))
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	<-done // Run ends with Close
	got := log.take()
	if len(got) != 2 || got[1].Fields[FieldRepeats] != "1" {
		t.Fatalf("close did not flush: %+v", got)
	}
	_ = a.Note(ctx, "c", fail("192.0.2.1:3", "a"))
	if got := log.take(); len(got) != 1 {
		t.Fatalf("note after close: %+v", got)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	log := &memLog{fail: true}
	a := New(log, Options{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	if err := a.Note(ctx, "c", fail("192.0.2.1:1", "a")); err == nil {
		t.Fatal("first occurrence: write error not returned")
	}
	_ = a.Note(ctx, "c", fail("192.0.2.1:2", "a"))
	if err := a.Flush(ctx); err == nil {
		t.Fatal("flush: write error not returned")
	}
}

func TestConcurrentNotes(t *testing.T) {
	log := &memLog{}
	a := New(log, Options{MaxKeys: 64})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_ = a.Note(ctx, "c", fail(fmt.Sprintf("10.0.0.%d:%d", i%100, g), "x"))
				if i%100 == 0 {
					_ = a.Flush(ctx)
				}
			}
		}(g)
	}
	wg.Wait()
	_ = a.Close(ctx)
	total := 0
	for _, r := range log.take() {
		n := 1
		if v, ok := r.Fields[FieldRepeats]; ok {
			fmt.Sscan(v, &n)
		}
		total += n
	}
	if total != 8*500 {
		t.Fatalf("events accounted for: %d, want %d", total, 8*500)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:22":           "192.0.2.1",
		"192.0.2.1":              "192.0.2.1",
		"[::ffff:192.0.2.1]:22":  "192.0.2.1",
		"[2001:db8:1:2:3::4]:22": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:22":      "fe80::/64",
		"not an address":         "not an address",
		"":                       "",
		"@":                      "@",
	} {
		if got := SourceKey(in); got != want {
			t.Errorf("SourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}
