package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/core"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// ScanDirName is the directory inside the data directory that holds the
// latest scan report of every BMC, one JSON file per BMC.
const ScanDirName = "scan"

// scanStore keeps scan reports as files, written atomically (temporary
// file, fsync, rename) with mode 0600.
type scanStore struct{ dir string }

func newScanStore(dataDir string) *scanStore {
	return &scanStore{dir: filepath.Join(dataDir, ScanDirName)}
}

// file maps a BMC name to its report file. Inventory names are canonical
// (letters, digits, '-', '_', '.'), but the check keeps the store safe on
// its own.
func (s *scanStore) file(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("scan store: unusable BMC name %q", name)
	}
	return filepath.Join(s.dir, name+".json"), nil
}

// Save stores r as the latest report of its BMC.
func (s *scanStore) Save(r *scan.Report) error {
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

// Load returns the latest report of a BMC, or core.ErrNoScan.
func (s *scanStore) Load(name string) (*scan.Report, error) {
	path, err := s.file(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, core.ErrNoScan
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
