package assemble

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/oserr"
)

// DataDirError is a data directory that cannot be used: the error names
// the directory and the problem.
type DataDirError struct{ err error }

func (e *DataDirError) Error() string { return "data directory " + e.err.Error() }
func (e *DataDirError) Unwrap() error { return e.err }

// PrepareDataDir makes the data directory (mode 0700) or checks an existing
// one: it must be a directory owned by this process's user; group or other
// permissions on it are removed (and logged), since it holds the audit log,
// the host key and the web sessions. One owned by another user is refused.
func PrepareDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &DataDirError{fmt.Errorf("%s: cannot create it: %w", dir, oserr.PathCause(err))}
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return &DataDirError{fmt.Errorf("%s: %w", dir, oserr.PathCause(err))}
	}
	if !fi.IsDir() {
		return &DataDirError{fmt.Errorf("%s: not a directory", dir)}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return &DataDirError{fmt.Errorf("%s: owned by uid %d, not by this process (uid %d): it must be private to bmcgate", dir, st.Uid, os.Geteuid())}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&0o700); err != nil {
			return &DataDirError{fmt.Errorf("%s: mode %#o lets others in and cannot be tightened: %w", dir, perm, oserr.PathCause(err))}
		}
		if log != nil {
			log.Warn("data directory was readable by others; tightened", "path", dir, "was", fmt.Sprintf("%#o", perm), "now", fmt.Sprintf("%#o", perm&0o700))
		}
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return &DataDirError{fmt.Errorf("%s: not writable: %w", dir, oserr.PathCause(err))}
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// AuditOptions are the writable audit store's options from the config.
func AuditOptions(cfg *configs.Config, log *slog.Logger) audit.Options {
	b, p := cfg.Audit.MinFreeFloor()
	return audit.Options{Logger: log, MinFree: audit.DiskFloor{Bytes: b, Percent: p}}
}

// OpenAuditLog opens the audit log in cfg's data directory for writing (an
// offline command: it fails with audit.ErrInUse while a gateway holds it),
// preparing the directory first. A directory that cannot be used is a
// *DataDirError; a log that cannot be opened is an *audit.OpenError naming
// the file.
func OpenAuditLog(cfg *configs.Config, log *slog.Logger) (*audit.Store, error) {
	if err := PrepareDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	return audit.Open(filepath.Join(cfg.DataDir, datadir.AuditDB), AuditOptions(cfg, log))
}
