package audit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHeadroomInjected(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true, MinFree: DiskFloor{Bytes: 100 << 20, Percent: 5}})
	clock := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return clock }
	free, total := uint64(1<<30), uint64(10<<30)
	calls := 0
	s.disk.statfs = func(string) (uint64, uint64, error) { calls++; return free, total, nil }
	if err := s.Headroom(); err != nil {
		t.Fatalf("1 GiB free of 10: %v", err)
	}
	free = 50 << 20
	if err := s.Headroom(); err != nil || calls != 1 {
		t.Fatalf("within the check interval the cached answer stands: %v, %d statfs calls", err, calls)
	}
	clock = clock.Add(diskCheckEvery)
	err := s.Headroom()
	if !errors.Is(err, ErrDiskLow) || !strings.Contains(err.Error(), "50.0 MiB free") || !strings.Contains(err.Error(), "audit.min_free") {
		t.Fatalf("50 MiB free: %v", err)
	}
	free = 400 << 20 // above the byte floor, below 5 %
	clock = clock.Add(diskCheckEvery)
	if err := s.Headroom(); !errors.Is(err, ErrDiskLow) {
		t.Fatalf("400 MiB of 10 GiB (< 5%%): %v", err)
	}
	free = 2 << 30
	s.disk.markStale() // as a failed commit does
	if err := s.Headroom(); err != nil {
		t.Fatalf("after markStale the filesystem is asked again: %v", err)
	}
	s.disk.statfs = func(string) (uint64, uint64, error) { return 0, 0, errors.New("boom") }
	s.disk.markStale()
	if err := s.Headroom(); err == nil {
		t.Fatal("a failing statfs must not report room")
	}
}

func TestHeadroomOffWithoutFloor(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	s.disk.statfs = func(string) (uint64, uint64, error) { return 0, 0, errors.New("not called") }
	if err := s.Headroom(); err != nil {
		t.Fatal(err)
	}
}

// TestHeadroomOnTmpfs fills a small tmpfs and watches the floor trip before
// appends fail.
func TestHeadroomOnTmpfs(t *testing.T) {
	// With BMCGATE_REQUIRE_PEERS set (CI, as root) a missing tmpfs is a
	// failure, like every other missing peer.
	skip := t.Skipf
	if os.Getenv("BMCGATE_REQUIRE_PEERS") != "" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		skip("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	path := filepath.Join(dir, "audit.db")
	s, err := Open(path, Options{NoSync: true, Logger: quietLogger(), MinFree: DiskFloor{Bytes: 3 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Headroom(); err != nil {
		t.Fatalf("empty tmpfs: %v", err)
	}
	ballast, err := os.Create(filepath.Join(dir, "ballast"))
	if err != nil {
		t.Fatal(err)
	}
	defer ballast.Close()
	if _, err := ballast.Write(make([]byte, 6<<20)); err != nil {
		t.Fatalf("fill: %v", err)
	}
	s.disk.markStale()
	err = s.Headroom()
	if !errors.Is(err, ErrDiskLow) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("tmpfs with < 3 MiB free: %v", err)
	}
	// Appends still work: the floor refuses new sessions, not the log.
	if _, err := s.Append(context.Background(), rec("alice", "power.on", "node01", OutcomeAllow)); err != nil {
		t.Fatalf("append below the floor: %v", err)
	}
}
