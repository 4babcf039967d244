package audit

import (
	"context"
	"errors"
	"testing"
)

// Enqueued records are committed in queue order with the appends around
// them: an Append that returns has every record enqueued before it stored.
// Close commits what is still queued; a sealed or closed store refuses.
func TestEnqueue(t *testing.T) {
	s, path := newStore(t, Options{})
	ctx := context.Background()
	for i := range 50 {
		if err := s.Enqueue(ctx, rec("alice", "web.access", "node01", OutcomeOK)); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	if got := mustAppend(t, s, rec("bob", "power.on", "node01", OutcomeAllow)); got.Seq != 51 {
		t.Fatalf("Append after 50 enqueued records is #%d, want #51", got.Seq)
	}
	for range 20 {
		must(t, s.Enqueue(ctx, rec("carol", "web.access", "node02", OutcomeOK)))
	}
	if err := s.Enqueue(ctx, Record{Code: "Bad Code"}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Enqueue of an invalid record = %v", err)
	}
	must(t, s.Close())
	if err := s.Enqueue(ctx, rec("dave", "web.access", "node01", OutcomeOK)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close = %v", err)
	}
	ro := openStore(t, path, Options{ReadOnly: true})
	if seq, _ := ro.Head(); seq != 71 {
		t.Fatalf("head after Close = #%d, want #71 (the enqueued records drained)", seq)
	}
	if rep := mustVerify(t, ro); !rep.OK {
		t.Fatalf("Verify = %+v", rep)
	}
	n := 0
	must(t, ro.Search(ctx, Query{Actor: "carol"}, func(Record) error { n++; return nil }))
	if n != 20 {
		t.Fatalf("found %d of carol's 20 enqueued records", n)
	}

	s2, _ := newStore(t, Options{NoSync: true})
	if _, err := s2.AppendFinal(ctx, Record{Code: CodeGatewayStop}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Enqueue(ctx, rec("eve", "web.access", "node01", OutcomeOK)); !errors.Is(err, ErrSealed) {
		t.Fatalf("Enqueue after AppendFinal = %v", err)
	}
}
