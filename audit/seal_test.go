package audit

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestAppendFinalIsTheLastRecord(t *testing.T) {
	s, path := newStore(t, Options{NoSync: true})
	fill(t, s, 5)
	// Appends racing the final record either land before it or are refused.
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := map[uint64]bool{}
	for range 32 {
		wg.Go(func() {
			r, err := s.Append(context.Background(), rec("racer", "power.on", "node01", OutcomeAllow))
			switch {
			case err == nil:
				mu.Lock()
				stored[r.Seq] = true
				mu.Unlock()
			case !errors.Is(err, ErrSealed) || !errors.Is(err, ErrClosed):
				t.Errorf("racing Append: %v", err)
			}
		})
	}
	final, err := s.AppendFinal(context.Background(), Record{Code: CodeGatewayStop, Door: DoorSystem, Outcome: OutcomeOK})
	if err != nil {
		t.Fatalf("AppendFinal: %v", err)
	}
	wg.Wait()
	if _, err := s.Append(context.Background(), rec("late", "power.on", "node01", OutcomeAllow)); !errors.Is(err, ErrSealed) {
		t.Fatalf("Append after AppendFinal: %v, want ErrSealed", err)
	}
	if _, err := s.AppendFinal(context.Background(), Record{Code: CodeGatewayStop}); !errors.Is(err, ErrSealed) {
		t.Fatalf("second AppendFinal: %v, want ErrSealed", err)
	}
	if seq, hash := s.Head(); seq != final.Seq || hash != final.Hash {
		t.Fatalf("head #%d %s, final record #%d %s", seq, hash, final.Seq, final.Hash)
	}
	for seq := range stored {
		if seq > final.Seq {
			t.Errorf("record #%d stored after the final record #%d", seq, final.Seq)
		}
	}
	if !s.Sealed() {
		t.Error("Sealed() = false after AppendFinal")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verifyOffline(t, path)
	if !rep.OK || rep.HeadSeq != final.Seq {
		t.Fatalf("offline verify: %+v, want OK with head #%d", rep, final.Seq)
	}
}
