package sshca

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/internal/appendlog"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// Revoke appends a revocation of serial to the data directory's
// revocations file (created with mode 0600). A running gateway picks it
// up within a second: the certificate's live sessions end and it no longer
// logs in. The reason is kept to one line of printable text.
func Revoke(dataDir string, serial uint64, reason string, now time.Time) error {
	if serial == 0 {
		return errors.New("serial 0 is never issued")
	}
	reason = appendlog.Clean(reason)
	if reason == "" {
		reason = "revoked with bmcgate cert revoke"
	}
	line := fmt.Sprintf("%d\t%s\t%s\n", serial, now.UTC().Format(time.RFC3339), reason)
	return appendlog.Append(filepath.Join(dataDir, datadir.UserRevoked), "revocations file", line)
}

// revokedFile is the revocations file, re-read when it changes.
type revokedFile struct {
	watch *appendlog.Watch

	mu     sync.Mutex
	serial map[uint64]string // serial -> reason
}

func newRevokedFile(path string) *revokedFile {
	return &revokedFile{watch: appendlog.NewWatch(path, "revocations file"), serial: map[uint64]string{}}
}

// why is the reason serial was revoked, or "".
func (f *revokedFile) why(serial uint64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serial[serial]
}

// reload re-reads the file when it changed and returns the serials that
// are new since the last read. A missing file is no revocation; an
// unreadable one is an error (and the last list stays). Lines are only
// ever appended; a serial stays revoked even if the file is edited to drop
// it while the gateway runs.
func (f *revokedFile) reload() (map[uint64]string, error) {
	data, err := f.watch.Changed()
	if err != nil || data == nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	added := map[uint64]string{}
	for s, why := range parseRevoked(data) {
		if _, seen := f.serial[s]; !seen {
			added[s] = why
			f.serial[s] = why
		}
	}
	return added, nil
}

// parseRevoked reads SERIAL TAB TIME TAB REASON lines; lines it cannot
// read are skipped.
func parseRevoked(data []byte) map[uint64]string {
	out := map[uint64]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		s, err := strconv.ParseUint(strings.TrimSpace(parts[0]), 10, 64)
		if err != nil || s == 0 {
			continue
		}
		why := "revoked"
		if len(parts) == 3 && parts[2] != "" {
			why = appendlog.Clean(parts[2])
		}
		out[s] = why
	}
	return out
}
