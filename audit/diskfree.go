package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// DiskFloor is the free space the audit log's filesystem must keep for new
// sessions to be accepted (see Store.Headroom). The zero value checks
// nothing. When both are set, both must hold.
type DiskFloor struct {
	Bytes   uint64  // free bytes at least
	Percent float64 // free share of the filesystem at least, 0-100
}

// IsZero reports whether the floor checks nothing.
func (f DiskFloor) IsZero() bool { return f.Bytes == 0 && f.Percent == 0 }

// String is the floor as the config writes it.
func (f DiskFloor) String() string {
	switch {
	case f.IsZero():
		return "none"
	case f.Percent == 0:
		return formatBytes(f.Bytes)
	case f.Bytes == 0:
		return fmt.Sprintf("%g%%", f.Percent)
	}
	return fmt.Sprintf("%s and %g%%", formatBytes(f.Bytes), f.Percent)
}

// ErrDiskLow is returned by Headroom when the audit log's filesystem has
// less free space than the configured floor.
var ErrDiskLow = errors.New("audit: the audit log's disk is nearly full")

// diskCheckEvery bounds how often Headroom asks the filesystem.
const diskCheckEvery = 2 * time.Second

// diskWatch caches the result of the last free-space check.
type diskWatch struct {
	floor DiskFloor
	dir   string
	// statfs returns the free (available to us) and total bytes of the
	// filesystem holding dir; a test hook.
	statfs func(dir string) (free, total uint64, err error)

	mu      sync.Mutex
	checked time.Time
	stale   bool // an append failed: check again at once
	err     error
	free    uint64
}

func newDiskWatch(path string, floor DiskFloor) *diskWatch {
	return &diskWatch{floor: floor, dir: filepath.Dir(path), statfs: statfs}
}

// Headroom reports whether the filesystem holding the audit log has more
// free space than Options.MinFree: nil when it has (or no floor is set), an
// error wrapping ErrDiskLow when it has not, or the statfs error. It asks
// the filesystem at most every two seconds, and at once after an append
// failed. Front doors call it before opening a new session, so that they
// refuse new work while the log can still record the refusal, rather than
// failing every command once the disk is full.
func (s *Store) Headroom() error {
	if s.disk == nil || s.disk.floor.IsZero() {
		return nil
	}
	return s.disk.check(s.now())
}

// FreeBytes returns the free bytes last seen on the audit log's filesystem
// (0 before the first check or without a floor).
func (s *Store) FreeBytes() uint64 {
	if s.disk == nil {
		return 0
	}
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	return s.disk.free
}

func (d *diskWatch) check(now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.stale && !d.checked.IsZero() && now.Sub(d.checked) < diskCheckEvery && now.After(d.checked.Add(-time.Second)) {
		return d.err
	}
	d.checked, d.stale = now, false
	free, total, err := d.statfs(d.dir)
	switch {
	case err != nil:
		d.err = fmt.Errorf("audit: free space of %s: %w", d.dir, err)
	case free < d.floor.Bytes:
		d.err = fmt.Errorf("%w: %s free on %s, less than the floor of %s (audit.min_free)", ErrDiskLow, formatBytes(free), d.dir, d.floor)
	case d.floor.Percent > 0 && total > 0 && float64(free)*100 < d.floor.Percent*float64(total):
		d.err = fmt.Errorf("%w: %s free on %s (%.1f%%), less than the floor of %s (audit.min_free)", ErrDiskLow, formatBytes(free), d.dir, float64(free)*100/float64(total), d.floor)
	default:
		d.err = nil
	}
	d.free = free
	return d.err
}

// markStale makes the next Headroom ask the filesystem.
func (d *diskWatch) markStale() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.stale = true
	d.mu.Unlock()
}

// formatBytes writes n with a binary unit.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
