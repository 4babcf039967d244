package sshd

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/gateway/sshd/krl"
	gossh "golang.org/x/crypto/ssh"
)

// revocationRecheck bounds how often the revoked-keys file is looked at:
// at most one stat per interval, however many logins are attempted, and a
// read and parse only when its size, modification time or inode changed.
const revocationRecheck = time.Second

// revocations is the revoked-keys file (ssh.revoked_keys), re-read when it
// changes. While the file cannot be read or parsed, every key is refused,
// as OpenSSH's sshd does: a revocation list that silently stopped working
// would let revoked keys back in.
type revocations struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	checked time.Time   // last stat
	info    os.FileInfo // of the version loaded (or failed)
	list    *krl.List
	err     error
}

func newRevocations(path string, log *slog.Logger) *revocations {
	return &revocations{path: path, log: log}
}

// LoadRevokedKeys reads and parses a revoked-keys file (for config checks).
func LoadRevokedKeys(path string) (*krl.List, error) {
	l, _, err := readRevocations(path)
	return l, err
}

func readRevocations(path string) (*krl.List, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, krl.MaxSize+1))
	if err != nil {
		return nil, fi, err
	}
	l, err := krl.Parse(data)
	return l, fi, err
}

// check returns why key is refused by the revoked-keys file, or "".
func (r *revocations) check(key gossh.PublicKey, now time.Time) refusal {
	list, err := r.current(now)
	if err != nil {
		return refusal{"revoked-keys file unusable", "revoked-keys file unusable, every key is refused: " + err.Error()}
	}
	if revoked, why := list.Revoked(key); revoked {
		return refusal{"revoked", why}
	}
	return refusal{}
}

// current returns the list, re-reading the file when it changed.
func (r *revocations) current(now time.Time) (*krl.List, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if (r.list != nil || r.err != nil) && now.Sub(r.checked) < revocationRecheck && now.After(r.checked) {
		return r.list, r.err
	}
	r.checked = now
	fi, err := os.Stat(r.path)
	if err == nil && r.info != nil && sameVersion(fi, r.info) && (r.list != nil || r.err != nil) {
		return r.list, r.err
	}
	list, info, err := readRevocations(r.path)
	if err != nil {
		err = fmt.Errorf("%s: %w", r.path, err)
		if r.err == nil || r.err.Error() != err.Error() {
			r.log.Error("revoked-keys file unusable: refusing every public key until it is fixed", "err", err)
		}
		r.list, r.err, r.info = nil, err, info
		return nil, err
	}
	if r.err != nil || r.list != nil {
		r.log.Info("revoked-keys file reloaded", "path", r.path, "entries", list.Entries)
	}
	r.list, r.err, r.info = list, nil, info
	return list, nil
}

// sameVersion reports whether a and b describe the same version of a file.
func sameVersion(a, b os.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}
