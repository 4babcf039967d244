package sshca

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// maxRevokedSize bounds the revocations file the gateway reads.
const maxRevokedSize = 4 << 20

// maxReasonLen bounds a revocation's reason.
const maxReasonLen = 200

// Revoke appends a revocation of serial to the data directory's
// revocations file (created with mode 0600). A running gateway picks it
// up within a second: the certificate's live sessions end and it no longer
// logs in. The reason is kept to one line of printable text.
func Revoke(dataDir string, serial uint64, reason string, now time.Time) error {
	if serial == 0 {
		return errors.New("serial 0 is never issued")
	}
	reason = cleanReason(reason)
	if reason == "" {
		reason = "revoked with bmcgate cert revoke"
	}
	path := filepath.Join(dataDir, datadir.UserRevoked)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("revocations file: %w", err)
	}
	line := fmt.Sprintf("%d\t%s\t%s\n", serial, now.UTC().Format(time.RFC3339), reason)
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("revocations file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("revocations file %s: %w", path, err)
	}
	return f.Close()
}

// cleanReason keeps a reason to one line of printable text.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > maxReasonLen {
		s = strings.ToValidUTF8(s[:maxReasonLen], "")
	}
	return s
}

// revokedFile is the revocations file, re-read when it changes.
type revokedFile struct {
	path string

	mu     sync.Mutex
	info   os.FileInfo
	serial map[uint64]string // serial -> reason
}

func newRevokedFile(path string) *revokedFile {
	return &revokedFile{path: path, serial: map[uint64]string{}}
}

// why is the reason serial was revoked, or "".
func (f *revokedFile) why(serial uint64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.serial[serial]
}

// reload re-reads the file when its size, time or inode changed and
// returns the serials that are new since the last read. A missing file is
// no revocation; an unreadable one is an error (and the last list stays).
func (f *revokedFile) reload() (map[uint64]string, error) {
	fi, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revocations file: %w", err)
	}
	f.mu.Lock()
	same := f.info != nil && fi.Size() == f.info.Size() && fi.ModTime().Equal(f.info.ModTime()) && os.SameFile(fi, f.info)
	f.mu.Unlock()
	if same {
		return nil, nil
	}
	list, err := readRevoked(f.path)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	added := map[uint64]string{}
	for s, why := range list {
		if _, seen := f.serial[s]; !seen {
			added[s] = why
		}
	}
	// Lines are only ever appended; a serial stays revoked even if the
	// file is edited to drop it while the gateway runs.
	for s, why := range added {
		f.serial[s] = why
	}
	f.info = fi
	return added, nil
}

// readRevoked parses the revocations file: SERIAL TAB TIME TAB REASON per
// line; lines it cannot read are skipped.
func readRevoked(path string) (map[uint64]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("revocations file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxRevokedSize+1))
	if err != nil {
		return nil, fmt.Errorf("revocations file %s: %w", path, err)
	}
	if len(data) > maxRevokedSize {
		return nil, fmt.Errorf("revocations file %s: larger than %d bytes", path, maxRevokedSize)
	}
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
			why = cleanReason(parts[2])
		}
		out[s] = why
	}
	return out, nil
}
