package audit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The fleet-scale audit benchmarks run on a log of BMCGATE_BENCH_RECORDS
// records (default 1,000,000) built through Append by benchLog and kept in
// BMCGATE_BENCH_DIR (default $TMPDIR/bmcgate-bench) for later runs, beside
// its records as JSON lines (the stored form, one per line) for grep and
// sha256sum to read.

const (
	benchUsers    = 1000
	benchBMCs     = 5000
	benchPerSess  = 20 // records per session
	benchStart    = 1795000000
	benchInterval = time.Second // between records
)

// benchRecord is the i-th generated record (0-based).
func benchRecord(i int) Record {
	codes := []string{CodeDecision, CodeDecision, CodeBMCCall, CodeWebUIRequest, CodeCmdRun}
	actions := []string{"power.status", "power.on", "power.cycle", "sensor.read", "web.access", "console.attach"}
	outcomes := []string{OutcomeAllow, OutcomeOK, OutcomeOK, OutcomeDeny}
	sess := i / benchPerSess
	user := fmt.Sprintf("user%04d", sess*7919%benchUsers)
	if i%100000 == 4242 {
		user = "rare"
	}
	return Record{Code: codes[i%len(codes)], Door: DoorSSH, Actor: user, Source: "10.1.2.3:50022",
		Session: fmt.Sprintf("s%07d", sess), Target: fmt.Sprintf("node%05d", i*104729%benchBMCs),
		Action: actions[i%len(actions)], Outcome: outcomes[i%len(outcomes)], Reason: "role operator on group rack4",
		Fields: map[string]string{"status": "200", "bytes": strconv.Itoa(i % 9000)}}
}

// benchLog returns the path of the benchmark log and of its JSON lines,
// building them if they do not exist yet.
func benchLog(b *testing.B) (dbPath, jsonPath string, n int) {
	b.Helper()
	n = 1000000
	if v := os.Getenv("BMCGATE_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("BMCGATE_BENCH_RECORDS=%q: want a number >= 1000", v)
		}
	}
	dir := os.Getenv("BMCGATE_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "bmcgate-bench")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	dbPath = filepath.Join(dir, fmt.Sprintf("audit-%d.db", n))
	jsonPath = filepath.Join(dir, fmt.Sprintf("audit-%d.jsonl", n))
	if _, err := os.Stat(jsonPath); err == nil {
		return dbPath, jsonPath, n
	}
	start := time.Now()
	tmp := dbPath + ".tmp"
	_ = os.Remove(tmp)
	s, err := Open(tmp, Options{NoSync: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	// Times advance one second per record: about 11.6 days per million.
	var next atomic.Int64
	s.now = func() time.Time { return time.Unix(benchStart, 0).Add(time.Duration(next.Load()) * benchInterval) }
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := s.Append(context.Background(), benchRecord(i)); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		b.Fatal(err)
	}
	if err := dumpJSONLines(dbPath, jsonPath); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d records in %v: %s", n, time.Since(start).Round(time.Second), dbPath)
	return dbPath, jsonPath, n
}

// dumpJSONLines writes every stored record of the log, one per line.
func dumpJSONLines(dbPath, jsonPath string) error {
	db, err := bolt.Open(dbPath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := os.Create(jsonPath + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEach(func(_, v []byte) error {
			w.Write(v)
			return w.WriteByte('\n')
		})
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(jsonPath+".tmp", jsonPath)
}

// timeCmd runs a command b.N times and reports its wall time per run.
func timeCmd(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	for range b.N {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil && name != "grep" {
			b.Fatalf("%s: %v: %s", name, err, out)
		}
	}
	return time.Since(start) / time.Duration(b.N)
}

// BenchmarkAudit1MSearch: the auditors' lookups on the benchmark log,
// beside grep over the same records as JSON lines.
func BenchmarkAudit1MSearch(b *testing.B) {
	dbPath, jsonPath, n := benchLog(b)
	s, err := Open(dbPath, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	half := time.Unix(benchStart, 0).Add(time.Duration(n/2) * benchInterval).UTC()
	lastDay := time.Unix(benchStart, 0).Add(time.Duration(n)*benchInterval - 24*time.Hour).UTC()
	mid := benchRecord(n / 2)
	for _, tt := range []struct {
		name string
		q    Query
		grep string
	}{
		{"user+since-half", Query{Actor: "user0421", Since: half}, `"actor":"user0421"`},
		{"rare-user+since-half", Query{Actor: "rare", Since: half}, `"actor":"rare"`},
		{"bmc+last-day", Query{Target: "node01234", Since: lastDay}, `"target":"node01234"`},
		{"session", Query{Session: mid.Session}, `"session":"` + mid.Session + `"`},
		{"user+action", Query{Actor: "user0421", Action: "power.cycle"}, `"actor":"user0421"`},
		{"outcome-scan-last-hour", Query{Outcome: OutcomeDeny, Since: lastDay.Add(23 * time.Hour)}, `"outcome":"deny"`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var found int
			for b.Loop() {
				found = 0
				if err := s.Search(context.Background(), tt.q, func(Record) error { found++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			perOp := b.Elapsed() / time.Duration(b.N)
			grep := timeCmd(b, "grep", "-c", "-F", tt.grep, jsonPath)
			b.ReportMetric(float64(found), "records")
			b.ReportMetric(float64(perOp.Microseconds())/1000, "ms/search")
			b.ReportMetric(float64(grep.Microseconds())/1000, "ms/grep")
			b.Logf("%s over %d records: bmcgate %.2f ms (%d records found), grep -c -F over the JSON lines %.1f ms",
				tt.name, n, float64(perOp.Microseconds())/1000, found, float64(grep.Microseconds())/1000)
		})
	}
}

// BenchmarkAudit1MVerify: a full verification of the benchmark log (the
// indexes included) beside sha256sum of its JSON lines, and an incremental
// one after 10,000 new records.
func BenchmarkAudit1MVerify(b *testing.B) {
	dbPath, jsonPath, n := benchLog(b)
	work := filepath.Join(b.TempDir(), "audit.db")
	if out, err := exec.Command("cp", dbPath, work).CombinedOutput(); err != nil {
		b.Fatalf("cp: %v: %s", err, out)
	}
	s, err := Open(work, Options{NoSync: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var full time.Duration
	for b.Loop() {
		start := time.Now()
		rep, err := s.Verify(ctx)
		if err != nil || !rep.OK || rep.Records != uint64(n) {
			b.Fatalf("Verify = %+v, %v", rep, err)
		}
		full += time.Since(start)
	}
	b.StopTimer()
	full /= time.Duration(b.N)
	const more = 10000
	concurrentFill(b, s, more)
	start := time.Now()
	rep, err := s.VerifyIncremental(ctx)
	if err != nil || !rep.OK || rep.From != uint64(n)+1 {
		b.Fatalf("VerifyIncremental = %+v, %v", rep, err)
	}
	incr := time.Since(start)
	sum := timeCmd(b, "sha256sum", jsonPath)
	perM := full.Seconds() * 1e6 / float64(n)
	b.ReportMetric(perM, "s/1M-records")
	b.ReportMetric(float64(full.Nanoseconds())/float64(n), "ns/record")
	b.Logf("verify %d records (chain and indexes): %.2f s (%.2f s per million, %.0f ns/record); sha256sum of the %d records as JSON lines %.2f s; incremental verify of %d new records %.1f ms",
		n, full.Seconds(), perM, float64(full.Nanoseconds())/float64(n), n, sum.Seconds(), more, float64(incr.Microseconds())/1000)
}

// BenchmarkAudit1MReindex: rebuilding the indexes of the benchmark log (what
// the first writable Open of a log without indexes does).
func BenchmarkAudit1MReindex(b *testing.B) {
	dbPath, _, n := benchLog(b)
	work := filepath.Join(b.TempDir(), "audit.db")
	var total time.Duration
	for range b.N {
		if out, err := exec.Command("cp", dbPath, work).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		start := time.Now()
		s, err := Open(work, Options{NoSync: true, Reindex: true, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(per.Seconds(), "s/reindex")
	b.Logf("reindex of %d records: %.1f s", n, per.Seconds())
}
