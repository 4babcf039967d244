// Package appendlog is the small append-only text files of the data
// directory that a command run beside a running gateway writes and the
// gateway reads (revoked certificate serials, locks): one line per entry,
// appended with mode 0600 and synced; read back bounded, and only when the
// file's size, time or inode changed.
package appendlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
)

// MaxSize bounds a file the gateway reads.
const MaxSize = 4 << 20

// maxReasonLen bounds a reason kept in an entry.
const maxReasonLen = 200

// Append adds line (which must end in a newline) to the file at path,
// creating it with mode 0600. what names the file in errors.
func Append(path, what, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	return f.Close()
}

// Clean keeps a reason to one line of printable text of at most 200 bytes
// (tabs, which separate fields, become spaces).
func Clean(s string) string {
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

// Watch notices changes of one file.
type Watch struct {
	path, what string

	mu   sync.Mutex
	info os.FileInfo
}

// NewWatch watches the file at path; what names it in errors.
func NewWatch(path, what string) *Watch { return &Watch{path: path, what: what} }

// Changed returns the file's content when it changed since the last call
// that returned it (nil, nil when it did not, or does not exist).
func (w *Watch) Changed() ([]byte, error) {
	fi, err := os.Stat(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.what, err)
	}
	w.mu.Lock()
	same := w.info != nil && fi.Size() == w.info.Size() && fi.ModTime().Equal(w.info.ModTime()) && os.SameFile(fi, w.info)
	w.mu.Unlock()
	if same {
		return nil, nil
	}
	f, err := os.Open(w.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.what, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", w.what, w.path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s %s: larger than %d bytes", w.what, w.path, MaxSize)
	}
	w.mu.Lock()
	w.info = fi
	w.mu.Unlock()
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
