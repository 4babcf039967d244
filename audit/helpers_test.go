package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// quietLogger discards log output (commit failures are expected in tests).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newPath returns a fresh database path in t.TempDir and registers a bbolt
// consistency check of the file for cleanup (after the store is closed).
func newPath(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	t.Cleanup(func() { checkBolt(t, path) })
	return path
}

// openStore opens a store at path and closes it on cleanup.
func openStore(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newStore opens a writable store on a fresh path.
func newStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := newPath(t)
	return openStore(t, path, opts), path
}

// checkBolt runs bbolt's consistency check on the file, if it exists.
func checkBolt(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Errorf("bbolt check: open: %v", err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("bbolt check: %v", err)
	}
}

// rec is a small valid record.
func rec(actor, action, target, outcome string) Record {
	return Record{Code: CodeDecision, Door: DoorSSH, Actor: actor, Source: "127.0.0.1:5555",
		Action: action, Target: target, Outcome: outcome, Session: "s-" + actor}
}

// mustAppend appends r or fails the test.
func mustAppend(t testing.TB, s *Store, r Record) Record {
	t.Helper()
	got, err := s.Append(context.Background(), r)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return got
}

// fill appends n records with varied fields and returns them as stored.
func fill(t testing.TB, s *Store, n int) []Record {
	t.Helper()
	actors := []string{"alice", "bob", "carol"}
	actions := []string{"power.on", "power.off", "sensor.read", "sol.open"}
	targets := []string{"node01", "node02", "node10", "rack2-bmc"}
	outcomes := []string{OutcomeAllow, OutcomeDeny, OutcomeOK}
	out := make([]Record, 0, n)
	for i := range n {
		r := rec(actors[i%3], actions[i%4], targets[i%len(targets)], outcomes[i%len(outcomes)])
		if i%5 == 0 {
			r.Code = CodeBMCCall
			r.Duration = time.Duration(i) * time.Millisecond
		}
		out = append(out, mustAppend(t, s, r))
	}
	return out
}

// mustVerify runs Verify and fails the test on an error.
func mustVerify(t testing.TB, s *Store) VerifyReport {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// verifyOffline opens path read-only, verifies and closes.
func verifyOffline(t testing.TB, path string) VerifyReport {
	t.Helper()
	s, err := Open(path, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Open read-only: %v", err)
	}
	defer s.Close()
	return mustVerify(t, s)
}

// rawUpdate changes the file directly through bbolt (the store must be
// closed), as an attacker with write access to the file could.
func rawUpdate(t testing.TB, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("raw open: %v", err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatalf("raw update: %v", err)
	}
}

// fileSum hashes the file's bytes.
func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// goAppend appends r on a new goroutine tracked by wg, reporting failure
// with t.Error (t.Fatal is only for the test goroutine).
func goAppend(t testing.TB, wg *sync.WaitGroup, s *Store, r Record) {
	wg.Go(func() {
		if _, err := s.Append(context.Background(), r); err != nil {
			t.Errorf("Append: %v", err)
		}
	})
}

// copyDB copies a closed database file to a fresh path (checked on cleanup).
// bbolt preallocates the file in large steps, so the copy skips zero pages
// and leaves them as holes.
func copyDB(t testing.TB, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := newPath(t)
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const page = 4096
	for off := 0; off < len(b); off += page {
		chunk := b[off:min(off+page, len(b))]
		if !bytes.Equal(chunk, make([]byte, len(chunk))) {
			if _, err := f.WriteAt(chunk, int64(off)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		t.Fatal(err)
	}
	return dst
}
