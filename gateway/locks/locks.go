// Package locks is the gateway's list of locked users and roles: "bmcgate
// lock NAME" appends a lock to <data_dir>/locks (also of a running
// gateway, which reads it within a second), "bmcgate unlock NAME" appends
// its end. A lock names a user or a role: the user NAME, and everyone who
// holds the role NAME, may not act until it is lifted or its time runs
// out; their live sessions end when it is read.
package locks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bmcgate/bmcgate/internal/appendlog"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// maxNameLen bounds a locked name.
const maxNameLen = 128

// Lock is one lock in force (or lifted).
type Lock struct {
	Name   string
	Since  time.Time
	Until  time.Time // zero: until unlocked
	Reason string
	Lifted bool
}

// Active reports whether the lock is in force at now.
func (l Lock) Active(now time.Time) bool {
	return !l.Lifted && (l.Until.IsZero() || now.Before(l.Until))
}

// Set appends a lock of name to the data directory's locks file; for zero
// means until unlocked.
func Set(dataDir, name string, dur time.Duration, reason string, now time.Time) error {
	if err := checkName(name); err != nil {
		return err
	}
	reason = appendlog.Clean(reason)
	if reason == "" {
		return errors.New("a lock needs a reason (--reason)")
	}
	until := "-"
	if dur > 0 {
		until = now.Add(dur).UTC().Format(time.RFC3339)
	}
	return appendLine(dataDir, fmt.Sprintf("lock\t%s\t%s\t%s\t%s\n", name, now.UTC().Format(time.RFC3339), until, reason))
}

// Lift appends the end of name's lock.
func Lift(dataDir, name, reason string, now time.Time) error {
	if err := checkName(name); err != nil {
		return err
	}
	return appendLine(dataDir, fmt.Sprintf("unlock\t%s\t%s\t-\t%s\n", name, now.UTC().Format(time.RFC3339), appendlog.Clean(reason)))
}

func checkName(name string) error {
	if name == "" || len(name) > maxNameLen || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f || !unicode.IsPrint(r) }) {
		return fmt.Errorf("%q is not a user or role name", name)
	}
	return nil
}

func appendLine(dataDir, line string) error {
	return appendlog.Append(filepath.Join(dataDir, datadir.Locks), "locks file", line)
}

// List is the locks file as last read. It is safe for concurrent use.
type List struct {
	watch *appendlog.Watch
	now   func() time.Time

	mu    sync.Mutex
	locks map[string]Lock // by name: the last entry
}

// Open reads the data directory's locks file (absent: no locks).
func Open(dataDir string, now func() time.Time) (*List, error) {
	if now == nil {
		now = time.Now
	}
	l := &List{watch: appendlog.NewWatch(filepath.Join(dataDir, datadir.Locks), "locks file"), now: now, locks: map[string]Lock{}}
	if _, err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Reload re-reads the file when it changed and returns the entries that
// changed since the last read (new locks, and lifted ones).
func (l *List) Reload() ([]Lock, error) {
	data, err := l.watch.Changed()
	if err != nil || data == nil {
		return nil, err
	}
	read := parse(data)
	l.mu.Lock()
	defer l.mu.Unlock()
	var changed []Lock
	for name, lk := range read {
		if old, ok := l.locks[name]; !ok || old != lk {
			changed = append(changed, lk)
		}
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i].Name < changed[j].Name })
	l.locks = read
	return changed, nil
}

// Locked returns why a user with these roles may not act now ("" when
// no lock applies): a lock of the user's name, or of one of the roles.
func (l *List) Locked(user string, roles []string) string {
	if l == nil {
		return ""
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if lk, ok := l.locks[user]; ok && lk.Active(now) {
		return "the user is locked: " + lk.Reason
	}
	for _, r := range roles {
		if lk, ok := l.locks[r]; ok && lk.Active(now) {
			return "the role " + r + " is locked: " + lk.Reason
		}
	}
	return ""
}

// All are the locks in force now, by name.
func (l *List) All() []Lock {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Lock
	for _, lk := range l.locks {
		if lk.Active(now) {
			out = append(out, lk)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parse reads the locks file: one entry per line, KIND NAME SINCE UNTIL
// REASON separated by tabs; the last entry of a name wins; lines it cannot
// read are skipped.
func parse(data []byte) map[string]Lock {
	out := map[string]Lock{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 5)
		if len(p) != 5 || checkName(p[1]) != nil {
			continue
		}
		since, err := time.Parse(time.RFC3339, p[2])
		if err != nil {
			continue
		}
		lk := Lock{Name: p[1], Since: since, Reason: appendlog.Clean(p[4])}
		switch p[0] {
		case "lock":
			if p[3] != "-" {
				if lk.Until, err = time.Parse(time.RFC3339, p[3]); err != nil {
					continue
				}
			}
		case "unlock":
			lk.Lifted = true
		default:
			continue
		}
		out[lk.Name] = lk
	}
	return out
}
