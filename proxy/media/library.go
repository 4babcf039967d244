// Package media is the gateway's image library and image listener for BMC
// virtual media: installation images the operator lists (each with its
// SHA-256), served to BMCs over HTTPS (or opt-in HTTP) under one-time URLs.
//
// A [Library] hashes every image when it is opened and again before each
// grant, and the grant keeps the hashed file open ([Checked]): every
// request is served from it after one fstat shows it untouched since (size,
// modification and change time: a write, or a replacement of the file,
// which unlinks it, moves the change time); a file changed since is refused
// until it is verified again. A [Server] serves an image only
// under a URL it granted for one insertion: a random token in the path,
// bound to the addresses of the BMC it was granted to, valid until it is
// revoked (the image is ejected) or expires. Requests for anything else,
// from anywhere else, are refused; nothing in a URL ever names a file
// system path. Range requests are served (BMCs read images in ranges), and
// every fetch, served or refused, is reported with the bytes sent and the
// client's address.
//
// The package knows images and BMC addresses, never users: whoever may ask
// for an insert is the gateway's decision.
package media

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// Image is one library entry, as configured.
type Image struct {
	Name   string // what users type; also the last element of its URLs
	Path   string // absolute path of the file
	SHA256 string // 64 hex digits
}

// Errors of the library.
var (
	ErrUnknownImage = errors.New("media: no such image")
	ErrChecksum     = errors.New("media: image checksum mismatch")
	ErrChanged      = errors.New("media: image file changed since it was verified")
	ErrUnreadable   = errors.New("media: image file unreadable")
)

// entry is an image and what was verified about its file.
type entry struct {
	img  Image
	want []byte

	mu       sync.Mutex
	verified os.FileInfo // nil: not (or no longer) verified
	verr     error       // why the last verification failed
}

// Library holds the configured images.
type Library struct {
	images map[string]*entry
	names  []string
}

// NewLibrary checks the list (names unique, checksums well formed) without
// reading the files; Verify reads them.
func NewLibrary(images []Image) (*Library, error) {
	l := &Library{images: map[string]*entry{}}
	for _, img := range images {
		sum, err := hex.DecodeString(img.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("media: image %s: the SHA-256 is not 64 hex digits", img.Name)
		}
		if img.Name == "" || img.Path == "" {
			return nil, errors.New("media: an image has no name or no path")
		}
		if _, dup := l.images[img.Name]; dup {
			return nil, fmt.Errorf("media: image %s listed twice", img.Name)
		}
		l.images[img.Name] = &entry{img: img, want: sum}
		l.names = append(l.names, img.Name)
	}
	slices.Sort(l.names)
	return l, nil
}

// Names lists the images, sorted.
func (l *Library) Names() []string { return slices.Clone(l.names) }

// Status is an image's state for listings.
type Status struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
}

// Statuses describes every image, sorted by name.
func (l *Library) Statuses() []Status {
	out := make([]Status, 0, len(l.names))
	for _, n := range l.names {
		e := l.images[n]
		e.mu.Lock()
		st := Status{Name: n, SHA256: e.img.SHA256, Verified: e.verified != nil}
		if e.verified != nil {
			st.Size = e.verified.Size()
		}
		if e.verr != nil {
			st.Problem = problem(e.verr)
		}
		e.mu.Unlock()
		out = append(out, st)
	}
	return out
}

func problem(err error) string {
	switch {
	case errors.Is(err, ErrChecksum):
		return "checksum mismatch"
	case errors.Is(err, ErrChanged):
		return "changed since verified"
	default:
		return "unreadable"
	}
}

// VerifyAll verifies every image (at start) and returns the failures
// joined; images that pass are usable even when others fail.
func (l *Library) VerifyAll(ctx context.Context) error {
	var errs []error
	for _, n := range l.names {
		if _, err := l.Verify(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Verify hashes an image's file and compares it with the configured
// SHA-256; on success the file's identity is remembered (Statuses). It
// returns the verified size.
func (l *Library) Verify(ctx context.Context, name string) (int64, error) {
	c, err := l.Check(ctx, name)
	if err != nil {
		return 0, err
	}
	c.Close()
	return c.size, nil
}

// Check is Verify that keeps the hashed file open: the Checked it returns
// serves exactly the bytes that were hashed, for as long as that file is
// not changed (Unchanged). The caller closes it.
func (l *Library) Check(ctx context.Context, name string) (*Checked, error) {
	e := l.images[name]
	if e == nil {
		return nil, ErrUnknownImage
	}
	c, err := e.hash(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.verified, e.verr = nil, err
		return nil, err
	}
	e.verified, e.verr = c.fi, nil
	return c, nil
}

// hash reads the file through and checks its digest; the file stays open
// for serving when it matches.
func (e *entry) hash(ctx context.Context) (*Checked, error) {
	f, before, err := openRegular(e.img.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %v", ErrUnreadable, e.img.Name, err)
	}
	st0, err := stampOf(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: image %s: %v", ErrUnreadable, e.img.Name, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: image %s: %v", ErrUnreadable, e.img.Name, err)
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), e.want) != 1 {
		f.Close()
		return nil, fmt.Errorf("%w: image %s", ErrChecksum, e.img.Name)
	}
	after, err := f.Stat()
	if err != nil || !sameFile(before, after) {
		f.Close()
		return nil, fmt.Errorf("%w: image %s (while it was hashed)", ErrChanged, e.img.Name)
	}
	st, err := stampOf(f)
	if err != nil || st != st0 {
		f.Close()
		return nil, fmt.Errorf("%w: image %s (while it was hashed)", ErrChanged, e.img.Name)
	}
	return &Checked{e: e, f: f, fi: after, size: after.Size(), stamp: st}, nil
}

// Checked is an image file whose SHA-256 matched, held open.
type Checked struct {
	e     *entry
	f     *os.File
	fi    os.FileInfo
	size  int64
	stamp fileStamp
}

// Size is the file's size when it was hashed.
func (c *Checked) Size() int64 { return c.size }

// ModTime is the file's modification time when it was hashed.
func (c *Checked) ModTime() time.Time { return c.fi.ModTime() }

// ReadAt reads the hashed file (safe for concurrent use).
func (c *Checked) ReadAt(p []byte, off int64) (int, error) { return c.f.ReadAt(p, off) }

// Unchanged reports whether the open file is still as it was hashed: the
// same size, modification and (where the system keeps one) change time,
// one fstat with no allocation. A file written to since is never served
// again (ErrChanged) and its image is marked unverified until a grant
// hashes it again.
func (c *Checked) Unchanged() error {
	st, err := stampOf(c.f)
	if err == nil && st == c.stamp {
		return nil
	}
	c.e.mu.Lock()
	c.e.verified, c.e.verr = nil, ErrChanged
	c.e.mu.Unlock()
	return fmt.Errorf("%w: image %s", ErrChanged, c.e.img.Name)
}

// Close closes the file; reads still under way fail.
func (c *Checked) Close() { _ = c.f.Close() }

// openRegular opens path, refusing anything but a regular file reached
// without a symbolic link as the last element.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	lfi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, errors.New("cannot stat the file")
	}
	if !lfi.Mode().IsRegular() {
		return nil, nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errors.New("cannot open the file")
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(lfi, fi) {
		f.Close()
		return nil, nil, errors.New("the file was replaced while opened")
	}
	return f, fi, nil
}

// sameFile reports whether two stats are of the same, unmodified file.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// ctxReader stops a long read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// now is the clock of grants; tests replace it through ServerOptions.
func defaultNow() time.Time { return time.Now() }
