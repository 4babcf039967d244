// Package scans holds the posture scan's parts that are not the scanner
// (proxy/scan) nor the service layer's scan operations: the report store in
// the data directory, the secret store for passwords set by fixes, the
// dashboard panel, the fleet scan with bounded concurrency, BMC selection
// and the command-line output of reports, plans and fix outcomes.
package scans

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// Store keeps scan reports as files, written atomically (temporary
// file, fsync, rename) with mode 0600. It remembers a summary of each
// report it decoded for the dashboard (summary).
type Store struct {
	dir string

	mu   sync.Mutex
	sums map[string]cachedSummary
}

// reportSummary is what the dashboard shows of a stored report. It is never
// modified once made, so it is shared without copying.
type reportSummary struct {
	worst scan.Severity
	time  time.Time
	ids   []string // findings of medium severity or worse
}

func summarize(r *scan.Report) reportSummary {
	s := reportSummary{worst: r.Worst(), time: r.Time}
	for _, f := range r.Findings {
		if f.Severity.Rank() >= scan.Medium.Rank() {
			s.ids = append(s.ids, f.ID)
		}
	}
	return s
}

// cachedSummary is a summary and the file it was made from.
type cachedSummary struct {
	file os.FileInfo
	sum  reportSummary
}

// maxSummaries bounds the summary cache; past it the cache starts over.
const maxSummaries = 100_000

// NewStore is the report store of the data directory dataDir (its
// datadir.ScanDir).
func NewStore(dataDir string) *Store {
	return &Store{dir: filepath.Join(dataDir, datadir.ScanDir)}
}

// file maps a BMC name to its report file. Inventory names are canonical
// (letters, digits, '-', '_', '.'), but the check keeps the store safe on
// its own.
func (s *Store) file(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("scan store: unusable BMC name %q", name)
	}
	return filepath.Join(s.dir, name+".json"), nil
}

// Save stores r as the latest report of its BMC.
func (s *Store) Save(r *scan.Report) error {
	path, err := s.file(r.BMC)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("scan store: encode: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("scan store: %w", err)
	}
	return writeFileAtomic(path, data, 0o600)
}

// Load returns the latest report of a BMC, or service.ErrNoScan.
func (s *Store) Load(name string) (*scan.Report, error) {
	path, err := s.file(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, service.ErrNoScan
	}
	if err != nil {
		return nil, fmt.Errorf("scan store: %w", err)
	}
	var r scan.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("scan store: %s: %w", filepath.Base(path), err)
	}
	return &r, nil
}

// summary returns the summary of a BMC's latest report, or service.ErrNoScan.
// A report file is decoded again only when it was replaced (every Save
// writes a new file), so a dashboard view costs a stat per BMC.
func (s *Store) summary(name string) (reportSummary, error) {
	path, err := s.file(name)
	if err != nil {
		return reportSummary{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		s.mu.Lock()
		delete(s.sums, name)
		s.mu.Unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return reportSummary{}, service.ErrNoScan
		}
		return reportSummary{}, fmt.Errorf("scan store: %w", err)
	}
	s.mu.Lock()
	c, ok := s.sums[name]
	s.mu.Unlock()
	if ok && os.SameFile(c.file, fi) && c.file.ModTime().Equal(fi.ModTime()) && c.file.Size() == fi.Size() {
		return c.sum, nil
	}
	r, err := s.Load(name)
	if err != nil {
		return reportSummary{}, err
	}
	sum := summarize(r)
	s.mu.Lock()
	if s.sums == nil || len(s.sums) >= maxSummaries {
		s.sums = map[string]cachedSummary{}
	}
	// fi was taken before the read: if the file was replaced in between,
	// the next call sees a different file and decodes again.
	s.sums[name] = cachedSummary{file: fi, sum: sum}
	s.mu.Unlock()
	return sum, nil
}

// writeFileAtomic replaces path with data: readers see the old or the new
// content, never a mix.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
