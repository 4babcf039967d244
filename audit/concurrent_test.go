package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// concurrentFill appends n records from 64 goroutines and returns them in
// Seq order.
func concurrentFill(t testing.TB, s *Store, n int) []Record {
	t.Helper()
	out, err := concurrentAppend(s, n)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

// concurrentAppend is concurrentFill for use outside the test goroutine.
func concurrentAppend(s *Store, n int) ([]Record, error) {
	const workers = 64
	var (
		mu   sync.Mutex
		out  []Record
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				r, err := s.Append(context.Background(), Record{Code: CodeCmdRun, Actor: fmt.Sprintf("user%02d", w),
					Action: "power.status", Target: fmt.Sprintf("node%03d", i%100), Outcome: OutcomeOK,
					Fields: map[string]string{"i": fmt.Sprint(i)}})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

func TestConcurrentAppends(t *testing.T) {
	s, _ := newStore(t, Options{})
	const n = 64 * 40
	recs := concurrentFill(t, s, n)
	if len(recs) != n {
		t.Fatalf("got %d records", len(recs))
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("seqs not contiguous: position %d has #%d", i, r.Seq)
		}
		if i > 0 && r.Prev != recs[i-1].Hash {
			t.Fatalf("#%d does not chain to #%d", r.Seq, r.Seq-1)
		}
		got, err := s.Get(context.Background(), r.Seq)
		if err != nil || !equalRecords(got, r) {
			t.Fatalf("Get(%d) = %+v, %v; Append returned %+v", r.Seq, got, err, r)
		}
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != n {
		t.Fatalf("Verify = %+v", rep)
	}
	st := s.Stats()
	if st.Appended != n || st.FailedCommits != 0 || st.Commits == 0 || st.Commits > n {
		t.Fatalf("Stats = %+v", st)
	}
	t.Logf("%d appends in %d commits (%.1f per commit, largest %d)", st.Appended, st.Commits,
		float64(st.Appended)/float64(st.Commits), st.LargestBatch)
}

// While a commit is in progress, everything queued goes into the next one.
func TestGroupCommit(t *testing.T) {
	s, _ := newStore(t, Options{})
	const waiters = 63
	release := holdFirstCommit(s)
	var wg sync.WaitGroup
	goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	<-release.started
	for range waiters {
		goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	}
	waitFor(t, func() bool { return len(s.reqs) == waiters })
	close(release.release)
	wg.Wait()
	if st := s.Stats(); st.Commits != 2 || st.Appended != waiters+1 || st.LargestBatch != waiters {
		t.Fatalf("Stats = %+v, want 2 commits, the second with %d records", st, waiters)
	}
	if rep := mustVerify(t, s); !rep.OK {
		t.Fatalf("Verify = %+v", rep)
	}
}

func TestMaxBatch(t *testing.T) {
	s, _ := newStore(t, Options{MaxBatch: 4, NoSync: true})
	release := holdFirstCommit(s)
	var wg sync.WaitGroup
	goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	<-release.started
	for range 10 {
		goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	}
	waitFor(t, func() bool { return len(s.reqs) == 10 })
	close(release.release)
	wg.Wait()
	if st := s.Stats(); st.Commits != 4 || st.LargestBatch != 4 {
		t.Fatalf("Stats = %+v, want 1+4+4+2", st)
	}
}

// commitGate holds the writer inside its first commit until release is
// closed; started is closed when the writer gets there.
type commitGate struct{ started, release chan struct{} }

func holdFirstCommit(s *Store) commitGate {
	g := commitGate{started: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	s.beforeWAL = func() error {
		once.Do(func() {
			close(g.started)
			<-g.release
		})
		return nil
	}
	return g
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Verify and Search on the gateway's own store while appends go on.
func TestVerifyWhileAppending(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := concurrentAppend(s, verifyChunk+500); err != nil {
			t.Errorf("Append: %v", err)
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		rep := mustVerify(t, s)
		if !rep.OK {
			t.Fatalf("Verify during appends = %+v", rep)
		}
		// The in-memory head moves right after a commit returns, so a
		// reader may briefly see committed records beyond it; it must
		// catch up, never stay behind.
		waitFor(t, func() bool { seq, _ := s.Head(); return seq >= rep.HeadSeq })
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != verifyChunk+500 {
		t.Fatalf("final Verify = %+v", rep)
	}
}
