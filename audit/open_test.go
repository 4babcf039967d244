package audit

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenInUse(t *testing.T) {
	s, path := newStore(t, Options{})
	fill(t, s, 2)
	for _, ro := range []bool{false, true} {
		start := time.Now()
		s2, err := Open(path, Options{ReadOnly: ro, OpenTimeout: 100 * time.Millisecond, Logger: quietLogger()})
		if err == nil {
			s2.Close()
			t.Fatalf("second Open (ReadOnly=%v) succeeded", ro)
		}
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "running bmcgate") {
			t.Fatalf("second Open (ReadOnly=%v) = %v, want ErrInUse", ro, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Open waited %v", d)
		}
	}
	// Two read-only opens share the file once the writer is gone.
	must(t, s.Close())
	r1 := openStore(t, path, Options{ReadOnly: true, OpenTimeout: 100 * time.Millisecond})
	r2 := openStore(t, path, Options{ReadOnly: true, OpenTimeout: 100 * time.Millisecond})
	for _, r := range []*Store{r1, r2} {
		if rep := mustVerify(t, r); !rep.OK || rep.Records != 2 {
			t.Fatalf("Verify = %+v", rep)
		}
	}
}

func TestReadOnlyStore(t *testing.T) {
	s, path := newStore(t, Options{})
	recs := fill(t, s, 4)
	must(t, s.Close())
	before := fileSum(t, path)
	ro := openStore(t, path, Options{ReadOnly: true})
	if seq, hash := ro.Head(); seq != 4 || hash != recs[3].Hash {
		t.Fatalf("Head = %d %s", seq, hash)
	}
	if _, err := ro.Append(context.Background(), Record{Code: CodeCmdRun}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Append on read-only store = %v", err)
	}
	if rep := mustVerify(t, ro); !rep.OK || rep.Records != 4 {
		t.Fatalf("Verify = %+v", rep)
	}
	got, err := ro.Get(context.Background(), 2)
	if err != nil || !equalRecords(got, recs[1]) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	must(t, ro.Close())
	if fileSum(t, path) != before {
		t.Fatal("read-only store modified the file")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "garbage.db")
	must(t, os.WriteFile(notBolt, []byte(strings.Repeat("not a bbolt file\n", 1000)), 0o600))
	tests := []struct {
		name string
		path string
		opts Options
		want error
	}{
		{"read-only missing file", filepath.Join(dir, "missing.db"), Options{ReadOnly: true}, fs.ErrNotExist},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "a.db"), Options{}, fs.ErrNotExist},
		{"not a bbolt file", notBolt, Options{}, ErrCorrupt},
		{"not a bbolt file, read-only", notBolt, Options{ReadOnly: true}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = quietLogger()
			s, err := Open(tt.path, tt.opts)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEmptyStore(t *testing.T) {
	s, path := newStore(t, Options{})
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 0 || rep.HeadHash != zeroHashHex {
		t.Fatalf("Verify empty = %+v", rep)
	}
	must(t, s.Search(context.Background(), Query{}, func(Record) error { t.Fatal("record in empty store"); return nil }))
	must(t, s.Close())
	if rep := verifyOffline(t, path); !rep.OK || rep.Records != 0 {
		t.Fatalf("offline Verify empty = %+v", rep)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode = %v, %v; want 0600", info.Mode(), err)
	}
}

func TestClose(t *testing.T) {
	s, _ := newStore(t, Options{})
	fill(t, s, 1)
	must(t, s.Close())
	must(t, s.Close()) // idempotent
	ctx := context.Background()
	if _, err := s.Append(ctx, Record{Code: CodeCmdRun}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := s.Verify(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Verify after Close = %v", err)
	}
	if err := s.Search(ctx, Query{}, func(Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Search after Close = %v", err)
	}
	if _, err := s.Get(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
}

// Close commits appends that were already queued, and refuses the rest.
func TestCloseDrainsQueue(t *testing.T) {
	s, path := newStore(t, Options{})
	gate := holdFirstCommit(s)
	var wg sync.WaitGroup
	goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	<-gate.started
	const queued = 10
	for range queued {
		goAppend(t, &wg, s, Record{Code: CodeCmdRun})
	}
	waitFor(t, func() bool { return len(s.reqs) == queued })
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	waitFor(t, func() bool { return s.isClosing() })
	if _, err := s.Append(context.Background(), Record{Code: CodeCmdRun}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append during Close = %v", err)
	}
	close(gate.release)
	must(t, <-closed)
	wg.Wait()
	if rep := verifyOffline(t, path); !rep.OK || rep.Records != queued+1 {
		t.Fatalf("Verify = %+v", rep)
	}
}
