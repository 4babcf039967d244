package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A truncated file is refused with a clear error instead of crashing the
// process (bbolt maps the missing pages: SIGBUS on the first read).
func TestOpenRefusesATruncatedFile(t *testing.T) {
	s, path := newStore(t, Options{NoSync: true})
	for range 2000 {
		mustAppend(t, s, rec("alice", "power.on", "node01", OutcomeAllow))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var used int // bytes of pages in use; bbolt preallocates beyond them
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bolt.Tx) error { used = int(tx.Size()); return nil })
	db.Close()
	dir := t.TempDir()
	for _, size := range []int{0, 100, 4096, 8192, used / 2, used - 4096} {
		p := filepath.Join(dir, "cut.db")
		if err := os.WriteFile(p, full[:size], 0o600); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{false, true} {
			s, err := Open(p, Options{ReadOnly: ro, Logger: quietLogger()})
			if err == nil {
				s.Close()
				t.Fatalf("%d of %d bytes (read-only %v): opened", size, len(full), ro)
			}
			var oe *OpenError
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &oe) || oe.Path != p || strings.Count(err.Error(), "\n") != 0 {
				t.Fatalf("%d bytes: %v", size, err)
			}
			if size > 0 && !strings.Contains(err.Error(), "truncated") {
				t.Errorf("%d bytes: %v does not say truncated", size, err)
			}
		}
		if fi, _ := os.Stat(p); fi.Size() != int64(size) {
			t.Errorf("refusing changed the file: %d bytes, was %d", fi.Size(), size)
		}
	}
}
