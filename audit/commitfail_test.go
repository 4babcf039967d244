package audit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var errInjected = errors.New("injected disk failure")

// A failed WAL write refuses every record of its group, leaves the head
// where it was and fails the store: later appends are refused too (fail
// closed) until it is reopened, and the chain then continues without a gap.
func TestWALFailureFailsClosed(t *testing.T) {
	s, path := newStore(t, Options{})
	before := fill(t, s, 3)
	var fail atomic.Bool
	s.beforeWAL = func() error {
		if fail.Load() {
			return errInjected
		}
		return nil
	}

	fail.Store(true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r, err := s.Append(context.Background(), Record{Code: CodeDecision, Actor: "mallory", Outcome: OutcomeAllow})
			if !errors.Is(err, errInjected) || r.Seq != 0 {
				t.Errorf("Append during failure = %+v, %v; want error wrapping the cause", r, err)
			}
		})
	}
	wg.Wait()
	if seq, hash := s.Head(); seq != 3 || hash != before[2].Hash {
		t.Fatalf("Head after failure = %d %s, want 3 %s", seq, hash, before[2].Hash)
	}
	if st := s.Stats(); st.FailedCommits == 0 || st.FailedRecords != 8 || st.Appended != 3 {
		t.Fatalf("Stats = %+v", st)
	}
	fail.Store(false)
	if _, err := s.Append(context.Background(), Record{Code: CodeCmdRun, Actor: "mallory"}); !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("Append after the failure = %v, want ErrFailed wrapping the cause", err)
	}
	n := 0
	must(t, s.Search(context.Background(), Query{Actor: "mallory"}, func(Record) error { n++; return nil }))
	if n != 0 {
		t.Fatalf("%d refused records were stored", n)
	}
	must(t, s.Close())

	s = openStore(t, path, Options{})
	after := fill(t, s, 3)
	for i, r := range after {
		if r.Seq != uint64(4+i) {
			t.Fatalf("after reopening: Seq = %d, want %d", r.Seq, 4+i)
		}
	}
	if after[0].Prev != before[2].Hash {
		t.Fatalf("#4 does not chain to #3")
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 6 {
		t.Fatalf("Verify = %+v", rep)
	}
	must(t, s.Close())
	if rep := verifyOffline(t, path); !rep.OK || rep.Records != 6 {
		t.Fatalf("offline Verify = %+v", rep)
	}
}

// When the database commit fails, the records already acknowledged stay
// in the WAL, the store fails (appends and reads that need the database
// are refused), and reopening replays them.
func TestApplierFailureFailsClosed(t *testing.T) {
	s, path := newStore(t, Options{})
	fill(t, s, 2)
	must(t, s.settle(context.Background())) // the applier is idle: the hook can change
	s.beforeCommit = func(*bolt.Tx) error { return errInjected }
	acked := mustAppend(t, s, Record{Code: CodeCmdRun, Actor: "carol"})
	if err := s.Search(context.Background(), Query{}, func(Record) error { return nil }); !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("Search after the applier failed = %v, want ErrFailed", err)
	}
	if _, err := s.Append(context.Background(), Record{Code: CodeCmdRun}); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append after the applier failed = %v, want ErrFailed", err)
	}
	must(t, s.Close())
	if segs, err := listWAL(path); err != nil || len(segs) != 1 {
		t.Fatalf("WAL files after a failed close = %v, %v; want the one holding #3", segs, err)
	}

	s = openStore(t, path, Options{})
	got, err := s.Get(context.Background(), acked.Seq)
	if err != nil || got.Hash != acked.Hash {
		t.Fatalf("Get(#%d) after reopening = %+v, %v", acked.Seq, got, err)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 3 {
		t.Fatalf("Verify = %+v", rep)
	}
}

// Records past the in-memory head (left by a commit that reported failure
// after its data reached the file) are replaced, not chained onto.
func TestStaleRecordsPastHeadAreDropped(t *testing.T) {
	s, _ := newStore(t, Options{})
	fill(t, s, 3)
	must(t, s.settle(context.Background())) // the applier has committed what was appended
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		must(t, b.Put(seqKey(4), []byte("stale 4")))
		return b.Put(seqKey(5), []byte("stale 5"))
	}))
	r := mustAppend(t, s, Record{Code: CodeCmdRun})
	if r.Seq != 4 {
		t.Fatalf("Seq = %d, want 4", r.Seq)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 4 {
		t.Fatalf("Verify = %+v", rep)
	}
}
