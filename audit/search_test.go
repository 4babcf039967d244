package audit

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// searchFixture holds n records whose times advance by one second every
// third commit (so several records share a time).
func searchFixture(t *testing.T, n int) (*Store, []Record, time.Time) {
	t.Helper()
	s, _ := newStore(t, Options{NoSync: true})
	base := time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	s.now = func() time.Time { return base.Add(time.Duration(calls.Add(1)/3) * time.Second) }
	return s, fill(t, s, n), base
}

// reference applies q to all by brute force.
func reference(all []Record, q Query) []Record {
	var out []Record
	for _, r := range all {
		okGlob := func(p, v string) bool {
			if p == "" {
				return true
			}
			m, _ := path.Match(p, v)
			return m
		}
		if (q.Actor == "" || r.Actor == q.Actor) && (q.Outcome == "" || r.Outcome == q.Outcome) &&
			okGlob(q.Code, r.Code) && (q.Session == "" || r.Session == q.Session) &&
			okGlob(q.Target, r.Target) && okGlob(q.Action, r.Action) &&
			(q.Since.IsZero() || !r.Time.Before(q.Since)) && (q.Until.IsZero() || r.Time.Before(q.Until)) &&
			r.Seq > q.AfterSeq {
			out = append(out, r)
		}
	}
	if q.Newest {
		slices.Reverse(out)
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultSearchLimit
	}
	return out[:min(len(out), limit)]
}

func TestSearch(t *testing.T) {
	const n = 2500 // more than two scan chunks
	s, all, base := searchFixture(t, n)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name  string
		q     Query
		count int // expected number of results (checks the reference too)
	}{
		{"default limit", Query{}, DefaultSearchLimit},
		{"everything", Query{Limit: MaxSearchLimit}, n},
		{"above the hard cap", Query{Limit: MaxSearchLimit * 10}, n},
		{"actor", Query{Actor: "bob", Limit: n}, n / 3},
		{"actor no match", Query{Actor: "bo"}, 0},
		{"target exact", Query{Target: "node01", Limit: n}, n / 4},
		{"target glob", Query{Target: "node0*", Limit: n}, n / 2},
		{"target glob class", Query{Target: "node[01]?", Limit: n}, 3 * n / 4},
		{"action glob", Query{Action: "power.*", Limit: n}, n / 2},
		{"action exact", Query{Action: "sol.open", Limit: n}, n / 4},
		{"outcome", Query{Outcome: OutcomeDeny, Limit: n}, n / 3},
		{"code", Query{Code: CodeBMCCall, Limit: n}, n / 5},
		{"session", Query{Session: "s-carol", Limit: n}, n / 3},
		{"combined", Query{Actor: "alice", Action: "power.on", Outcome: OutcomeAllow, Limit: n}, 209},
		{"since", Query{Since: at(600), Limit: n}, n - 1799},
		{"until", Query{Until: at(600), Limit: n}, 1799},
		{"since and until", Query{Since: at(100), Until: at(200), Limit: n}, 300},
		{"since after the end", Query{Since: at(100000)}, 0},
		{"until before the start", Query{Until: base}, 0},
		{"empty window", Query{Since: at(300), Until: at(300)}, 0},
		{"after seq", Query{AfterSeq: 2400, Limit: n}, 100},
		{"after seq past the end", Query{AfterSeq: n}, 0},
		{"limit", Query{Limit: 7}, 7},
		{"newest", Query{Newest: true, Limit: n}, n},
		{"newest limit", Query{Newest: true, Limit: 5}, 5},
		{"newest with window", Query{Newest: true, Since: at(100), Until: at(200), Actor: "carol"}, 100},
		{"newest after seq", Query{Newest: true, AfterSeq: 2000, Limit: 20}, 20},
		{"newest until", Query{Newest: true, Until: at(400), Limit: 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Record
			err := s.Search(context.Background(), tt.q, func(r Record) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			want := reference(all, tt.q)
			if len(want) != tt.count {
				t.Fatalf("reference finds %d records, table says %d", len(want), tt.count)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Seq != want[i].Seq || !equalRecords(got[i], want[i]) {
					t.Fatalf("result %d is #%d, want #%d", i, got[i].Seq, want[i].Seq)
				}
			}
		})
	}
}

func TestSearchErrors(t *testing.T) {
	s, _, _ := searchFixture(t, 50)
	stop := errors.New("stop")
	n := 0
	err := s.Search(context.Background(), Query{}, func(Record) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("Search with stopping callback = %v after %d records", err, n)
	}
	for _, q := range []Query{{Target: "node["}, {Action: `power\`}, {Limit: -1}} {
		if err := s.Search(context.Background(), q, func(Record) error { return nil }); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Search(%+v) = %v, want ErrInvalidQuery", q, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = s.Search(ctx, Query{}, func(Record) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Search with cancelled ctx = %v", err)
	}
}

// A callback may append (records the search itself) without deadlock; the
// search does not see records appended after it started.
func TestSearchCallbackMayAppend(t *testing.T) {
	s, _, _ := searchFixture(t, 30)
	n := 0
	err := s.Search(context.Background(), Query{}, func(r Record) error {
		n++
		_, err := s.Append(context.Background(), Record{Code: CodeAuditSearch})
		return err
	})
	if err != nil || n != 30 {
		t.Fatalf("Search = %v after %d records", err, n)
	}
}

// Search still works on a damaged log (Verify is what reports damage).
func TestSearchDamagedLog(t *testing.T) {
	s, path := newStore(t, Options{NoSync: true})
	fill(t, s, 10)
	must(t, s.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		must(t, b.Delete(seqKey(4)))
		return b.Put([]byte("zzzzzzzzzz"), []byte("junk"))
	})
	ro := openStore(t, path, Options{ReadOnly: true})
	for _, newest := range []bool{false, true} {
		var seqs []uint64
		must(t, ro.Search(context.Background(), Query{Newest: newest}, func(r Record) error {
			seqs = append(seqs, r.Seq)
			return nil
		}))
		if len(seqs) != 9 || slices.Contains(seqs, 4) {
			t.Fatalf("Search(newest=%v) = %v", newest, seqs)
		}
	}
	must(t, ro.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Put(seqKey(6), []byte("junk")) })
	ro = openStore(t, path, Options{ReadOnly: true})
	err := ro.Search(context.Background(), Query{}, func(Record) error { return nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "#6") {
		t.Fatalf("Search over an undecodable record = %v", err)
	}
}
