package audit

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchAppend runs b.N appends from the given number of goroutines and
// reports appends/s and the average batch (records per commit).
func benchAppend(b *testing.B, writers int, opts Options) {
	s, _ := newStore(b, opts)
	r := Record{Code: CodeDecision, Door: DoorSSH, Actor: "alice", Source: "127.0.0.1:50022", Session: "3f2a9c",
		Target: "node042", Action: "power.status", Outcome: OutcomeAllow, Reason: "role operator on group rack4"}
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := s.Append(ctx, r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	st := s.Stats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(st.Appended)/float64(max(st.Commits, 1)), "records/commit")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(max(st.Commits, 1)), "µs/commit")
}

// BenchmarkAppendDurable32: 32 concurrent writers, one WAL fdatasync per
// group commit (the database's own commits run beside it, off the
// acknowledgement path).
func BenchmarkAppendDurable32(b *testing.B) { benchAppend(b, 32, Options{}) }

// BenchmarkAppendSingle: one writer, so one record per group and fdatasync.
func BenchmarkAppendSingle(b *testing.B) { benchAppend(b, 1, Options{}) }

// BenchmarkAppendNoSync32 shows the CPU-bound ceiling (unsafe setting).
func BenchmarkAppendNoSync32(b *testing.B) { benchAppend(b, 32, Options{NoSync: true}) }

// BenchmarkVerify reports the cost of verifying one record.
func BenchmarkVerify(b *testing.B) {
	const n = 20000
	s, _ := newStore(b, Options{NoSync: true})
	concurrentFill(b, s, n)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK || rep.Records != n {
			b.Fatalf("Verify = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkDiskFsync measures the disk under the store: write one 4 KiB
// page and fsync, about what a group commit's WAL write and fdatasync
// costs (a bbolt commit does it twice: data pages, then meta page).
func BenchmarkDiskFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	var i int64
	for b.Loop() {
		if _, err := f.WriteAt(page, (i%256)*4096); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
