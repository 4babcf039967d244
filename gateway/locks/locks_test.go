package locks

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// TestLocks sets, expires and lifts locks and reads the changes as a
// running gateway does.
func TestLocks(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l, err := Open(dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if why := l.Locked("alice", []string{"admin"}); why != "" {
		t.Fatalf("locked without a file: %q", why)
	}
	if err := Set(dir, "alice", time.Hour, "incident\t7\n", now); err != nil {
		t.Fatal(err)
	}
	if err := Set(dir, "operator", 0, "rotating keys", now); err != nil {
		t.Fatal(err)
	}
	if err := Set(dir, "bob", 0, "", now); err == nil {
		t.Fatal("a lock without a reason")
	}
	if err := Set(dir, "bad name", 0, "x", now); err == nil {
		t.Fatal("a name with a space")
	}
	changed, err := l.Reload()
	if err != nil || len(changed) != 2 {
		t.Fatalf("changes %v %v", changed, err)
	}
	if why := l.Locked("alice", nil); why != "the user is locked: incident 7" {
		t.Fatalf("alice: %q", why)
	}
	if why := l.Locked("carol", []string{"viewer", "operator"}); why != "the role operator is locked: rotating keys" {
		t.Fatalf("carol: %q", why)
	}
	if changed, _ := l.Reload(); len(changed) != 0 {
		t.Fatalf("unchanged file read as %v", changed)
	}
	now = now.Add(61 * time.Minute)
	if why := l.Locked("alice", nil); why != "" {
		t.Fatalf("expired lock holds: %q", why)
	}
	if err := Lift(dir, "operator", "done", now); err != nil {
		t.Fatal(err)
	}
	changed, _ = l.Reload()
	if len(changed) != 1 || !changed[0].Lifted || l.Locked("carol", []string{"operator"}) != "" || len(l.All()) != 0 {
		t.Fatalf("after unlock: %v %v", changed, l.All())
	}
	if fi, err := os.Stat(filepath.Join(dir, datadir.Locks)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("locks file: %v %v", fi, err)
	}
}
