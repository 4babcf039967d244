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

// A failed commit refuses every record of the batch, leaves the head where
// it was, and later appends continue the chain without a gap.
func TestCommitFailureKeepsChain(t *testing.T) {
	s, path := newStore(t, Options{})
	before := fill(t, s, 3)
	var fail atomic.Bool
	s.beforeCommit = func(*bolt.Tx) error {
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
	after := fill(t, s, 3)
	for i, r := range after {
		if r.Seq != uint64(4+i) {
			t.Fatalf("after failure: Seq = %d, want %d", r.Seq, 4+i)
		}
	}
	if after[0].Prev != before[2].Hash {
		t.Fatalf("#4 does not chain to #3")
	}
	n := 0
	must(t, s.Search(context.Background(), Query{Actor: "mallory"}, func(Record) error { n++; return nil }))
	if n != 0 {
		t.Fatalf("%d refused records were stored", n)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 6 {
		t.Fatalf("Verify = %+v", rep)
	}
	must(t, s.Close())
	if rep := verifyOffline(t, path); !rep.OK || rep.Records != 6 {
		t.Fatalf("offline Verify = %+v", rep)
	}
}

// When the database itself fails (here: closed underneath the store),
// Append reports the error and nothing is stored.
func TestCommitFailureClosedDB(t *testing.T) {
	s, _ := newStore(t, Options{})
	fill(t, s, 2)
	must(t, s.db.Close())
	_, err := s.Append(context.Background(), Record{Code: CodeCmdRun})
	if err == nil {
		t.Fatal("Append on a failed database succeeded")
	}
	if seq, _ := s.Head(); seq != 2 {
		t.Fatalf("Head = %d, want 2", seq)
	}
}

// Records past the in-memory head (left by a commit that reported failure
// after its data reached the file) are replaced, not chained onto.
func TestStaleRecordsPastHeadAreDropped(t *testing.T) {
	s, _ := newStore(t, Options{})
	fill(t, s, 3)
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
