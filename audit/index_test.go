package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// searchSeqs runs q through every page and returns the Seqs found.
func searchSeqs(t *testing.T, s *Store, q Query) []uint64 {
	t.Helper()
	var got []uint64
	for {
		page, err := s.SearchPage(context.Background(), q, func(r Record) error {
			got = append(got, r.Seq)
			return nil
		})
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		if !page.More {
			return got
		}
		q = page.Next(q)
	}
}

// refSeqs is reference without the limit, with BeforeSeq.
func refSeqs(all []Record, q Query) []uint64 {
	q.Limit = MaxSearchLimit
	var out []uint64
	for _, r := range reference(all, q) {
		if q.BeforeSeq == 0 || r.Seq < q.BeforeSeq {
			out = append(out, r.Seq)
		}
	}
	return out
}

// indexQueries are random combinations of filters, times and cursors,
// small limits so that searches page.
func indexQueries(all []Record, n int) []Query {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	first, last := all[0].Time, all[len(all)-1].Time
	span := last.Sub(first)
	var qs []Query
	for range n {
		q := Query{
			Actor:   pick("", "", "alice", "bob", "nobody"),
			Target:  pick("", "", "node01", "node10", "node0*", "rack2-bmc"),
			Action:  pick("", "", "power.on", "sol.open", "power.*"),
			Session: pick("", "", "s-carol", "s-alice"),
			Code:    pick("", "", CodeBMCCall, CodeDecision, "authz.*"),
			Outcome: pick("", "", OutcomeDeny, OutcomeOK),
			Limit:   1 + rng.IntN(40),
			Newest:  rng.IntN(2) == 0,
		}
		if rng.IntN(3) == 0 {
			q.Since = first.Add(span * time.Duration(rng.IntN(100)) / 100)
		}
		if rng.IntN(3) == 0 {
			q.Until = first.Add(span * time.Duration(rng.IntN(100)) / 100)
		}
		if rng.IntN(4) == 0 {
			q.AfterSeq = uint64(rng.IntN(len(all)))
		}
		if rng.IntN(4) == 0 {
			q.BeforeSeq = uint64(1 + rng.IntN(len(all)))
		}
		qs = append(qs, q)
	}
	return qs
}

// TestSearchIndexedAgreesWithReference: indexed searches (one to five
// indexed filters, leapfrogged), an unindexed read-only copy (scans) and
// the brute-force reference find the same records in the same order.
func TestSearchIndexedAgreesWithReference(t *testing.T) {
	s, all, _ := searchFixture(t, 1500)
	qs := indexQueries(all, 200)
	for _, q := range qs {
		want := refSeqs(all, q)
		if got := searchSeqs(t, s, q); !slices.Equal(got, want) {
			t.Fatalf("indexed Search(%+v) = %d records, want %d\n%v\n%v", q, len(got), len(want), got, want)
		}
	}
	path := s.path
	must(t, s.Close())
	dropIndexes(t, path)
	ro := openStore(t, path, Options{ReadOnly: true})
	for _, q := range qs[:100] {
		if got, want := searchSeqs(t, ro, q), refSeqs(all, q); !slices.Equal(got, want) {
			t.Fatalf("unindexed Search(%+v) = %v, want %v", q, got, want)
		}
	}
	if rep := mustVerify(t, ro); !rep.OK || !strings.Contains(rep.Note, "no search indexes") {
		t.Fatalf("Verify of an unindexed log = %+v", rep)
	}
}

// bulkFill appends n varied records from 32 goroutines (so in large
// commits) and returns them in Seq order.
func bulkFill(t *testing.T, s *Store, n int) []Record {
	t.Helper()
	actors := []string{"alice", "bob", "carol"}
	actions := []string{"power.on", "power.off", "sensor.read", "sol.open"}
	targets := []string{"node01", "node02", "node10", "rack2-bmc"}
	out := make([]Record, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				r := rec(actors[i%3], actions[i%4], targets[i%4], OutcomeOK)
				if i%5 == 0 {
					r.Code = CodeBMCCall
				}
				got, err := s.Append(context.Background(), r)
				if err != nil {
					t.Error(err)
					return
				}
				out[got.Seq-1] = got
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// dropIndexes turns path into a log written before the indexes existed.
func dropIndexes(t *testing.T, path string) {
	t.Helper()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		must(t, tx.Bucket(bucketMeta).Delete(keyIndex))
		return tx.DeleteBucket(bucketIndex)
	})
}

// indexEntries counts the entries of each index.
func indexEntries(t *testing.T, s *Store) map[string]int {
	t.Helper()
	n := map[string]int{}
	must(t, s.settle(context.Background())) // the applier has committed what was appended
	must(t, s.view(func(tx *bolt.Tx) error {
		ib := openIdx(tx, false)
		if ib == nil {
			return fmt.Errorf("no complete indexes")
		}
		for i, k := range idxKinds {
			n[k.name] = ib[i].Stats().KeyN
		}
		return nil
	}))
	return n
}

// TestOpenIndexesAnOldLog: a writable Open indexes a log that has no
// indexes; Reindex rebuilds them; both give what Append writes.
func TestOpenIndexesAnOldLog(t *testing.T) {
	defer func(n uint64) { reindexChunk = n }(reindexChunk)
	reindexChunk = 1000
	s, path := newStore(t, Options{NoSync: true})
	all := bulkFill(t, s, 2500) // more than two rebuild chunks
	want := indexEntries(t, s)
	if want["actor"] != len(all) || want["code"] != len(all) || want["target"] != len(all) {
		t.Fatalf("entries written by Append: %v", want)
	}
	must(t, s.Close())
	dropIndexes(t, path)
	s = openStore(t, path, Options{NoSync: true})
	if got := indexEntries(t, s); !equalCounts(got, want) {
		t.Fatalf("entries after indexing at open: %v, want %v", got, want)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Note != "" {
		t.Fatalf("Verify = %+v", rep)
	}
	q := Query{Actor: "bob", Action: "sol.open", Newest: true, Limit: 5}
	if got, ref := searchSeqs(t, s, q), refSeqs(all, q); !slices.Equal(got, ref) {
		t.Fatalf("Search after indexing = %v, want %v", got, ref)
	}
	must(t, s.Close())
	s = openStore(t, path, Options{NoSync: true, Reindex: true})
	if got := indexEntries(t, s); !equalCounts(got, want) {
		t.Fatalf("entries after Reindex: %v, want %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestVerifyChecksIndexes: a removed, added or altered index entry fails a
// full verification naming the index and the records; a rebuild repairs
// it; an incremental verification finds a missing entry of a new record.
func TestVerifyChecksIndexes(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(ib *idxBuckets, all []Record) error
		index string
		first uint64
	}{
		{"removed", func(ib *idxBuckets, all []Record) error {
			return ib[1].Delete(idxKey(nil, []byte(all[499].Target), 500))
		}, "target", 256},
		{"added", func(ib *idxBuckets, _ []Record) error { return ib[0].Put(idxKey(nil, []byte("mallory"), 17), nil) }, "actor", 1},
		{"altered", func(ib *idxBuckets, all []Record) error {
			must(t, ib[4].Delete(idxKey(nil, []byte(all[899].Code), 900)))
			return ib[4].Put(idxKey(nil, []byte(all[899].Code+"x"), 900), nil)
		}, "code", 768},
	}
	defer func(n uint64) { idxBlock = n }(idxBlock)
	idxBlock = 256
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path := newStore(t, Options{NoSync: true})
			all := bulkFill(t, s, 900)
			must(t, s.Close())
			rawUpdate(t, path, func(tx *bolt.Tx) error { return tt.edit(openIdx(tx, false), all) })
			s = openStore(t, path, Options{NoSync: true})
			rep := mustVerify(t, s)
			if rep.OK || rep.FirstBad != tt.first || !strings.Contains(rep.Problem, "the "+tt.index+" index disagrees") ||
				!strings.Contains(rep.Problem, "reindex") {
				t.Fatalf("Verify = %+v", rep)
			}
			must(t, s.Close())
			s = openStore(t, path, Options{NoSync: true, Reindex: true})
			if rep := mustVerify(t, s); !rep.OK {
				t.Fatalf("Verify after Reindex = %+v", rep)
			}
		})
	}
	s, path := newStore(t, Options{NoSync: true})
	fill(t, s, 100)
	mustVerify(t, s) // checkpoint at #100
	mustAppend(t, s, rec("dave", "power.on", "node77", OutcomeAllow))
	must(t, s.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error { return openIdx(tx, false)[0].Delete(idxKey(nil, []byte("dave"), 101)) })
	s = openStore(t, path, Options{NoSync: true})
	rep, err := s.VerifyIncremental(context.Background())
	if err != nil || rep.OK || rep.From != 101 || rep.FirstBad != 101 || !strings.Contains(rep.Problem, "missing from the actor index") {
		t.Fatalf("VerifyIncremental = %+v, %v", rep, err)
	}
}

// Stale records past the head (a commit that reported failure after its
// data reached the file) leave no index entries behind when the next
// commit replaces them.
func TestStaleRecordsLeaveNoIndexEntries(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	fill(t, s, 3)
	seq, hash := s.Head()
	prev, _ := parseHash(hash)
	must(t, s.settle(context.Background())) // the applier has committed what was appended
	must(t, s.db.Update(func(tx *bolt.Tx) error {
		b, ib := tx.Bucket(bucketRecords), openIdx(tx, false)
		for i, actor := range []string{"mallory", "trudy"} {
			v := storedOf(Record{Seq: seq + 1 + uint64(i), Code: CodeCmdRun, Actor: actor, Target: "node99", Session: "s-stale"}, prev)
			must(t, b.Put(seqKey(seq+1+uint64(i)), v))
			must(t, ib.add(seq+1+uint64(i), v, nil))
		}
		return nil
	}))
	mustAppend(t, s, rec("alice", "power.on", "node01", OutcomeAllow))
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 4 {
		t.Fatalf("Verify = %+v", rep)
	}
	for _, q := range []Query{{Actor: "mallory"}, {Actor: "trudy"}, {Session: "s-stale"}, {Target: "node99"}} {
		if got := searchSeqs(t, s, q); len(got) != 0 {
			t.Fatalf("Search(%+v) = %v after the stale records were replaced", q, got)
		}
	}
}
