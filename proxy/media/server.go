package media

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a Server.
const (
	DefaultLifetime      = 4 * time.Hour
	DefaultMaxConcurrent = 16
	maxGrants            = 4096
	tokenBytes           = 32
	pathPrefix           = "/media/"
)

// Fetch is one request to the listener, served or refused.
type Fetch struct {
	BMC      string        // the BMC the URL was granted to ("" when the URL is unknown)
	Image    string        // the image name ("" when unknown)
	Client   string        // the client's IP address
	Method   string        // GET or HEAD
	Range    string        // the Range header, if any (bounded)
	Status   int           // HTTP status sent
	Bytes    int64         // body bytes sent
	Duration time.Duration // from request to the last byte
	Refused  string        // why it was refused, in plain words ("" when served)
}

// ServerOptions configure a Server. BaseURL is required.
type ServerOptions struct {
	// BaseURL is the listener as BMCs reach it, https://HOST[:PORT] (or
	// http:// when the operator opted in).
	BaseURL string
	// Lifetime bounds a grant never revoked (DefaultLifetime).
	Lifetime time.Duration
	// MaxConcurrent bounds requests being served at once; beyond it, 503
	// (DefaultMaxConcurrent).
	MaxConcurrent int
	// OnFetch receives every request's outcome, after the response. It
	// must not block for long.
	OnFetch func(Fetch)
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Grant is a URL issued for one insertion of an image into one BMC.
type Grant struct {
	BMC     string
	Image   string
	URL     string // what the BMC is told to fetch
	Expires time.Time
	Size    int64
}

// grant is the server's record of a Grant. Only the token's digest is
// kept, so the table holds no usable URL.
type grant struct {
	Grant
	addrs []netip.Addr
	file  *Checked // the image file hashed for this grant, held open until the grant ends
}

// Server is the image listener's handler and its table of grants.
type Server struct {
	lib   *Library
	o     ServerOptions
	base  *url.URL
	slots chan struct{}

	mu     sync.Mutex
	grants map[[sha256.Size]byte]*grant // by token digest
	byBMC  map[string][sha256.Size]byte // one grant per BMC
}

// NewServer returns a server of lib's images.
func NewServer(lib *Library, o ServerOptions) (*Server, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return nil, errors.New("media: the base URL must be https://HOST[:PORT] (or http://)")
	}
	u.Path = ""
	if o.Lifetime <= 0 {
		o.Lifetime = DefaultLifetime
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Now == nil {
		o.Now = defaultNow
	}
	if o.OnFetch == nil {
		o.OnFetch = func(Fetch) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		lib: lib, o: o, base: u,
		slots:  make(chan struct{}, o.MaxConcurrent),
		grants: map[[sha256.Size]byte]*grant{},
		byBMC:  map[string][sha256.Size]byte{},
	}, nil
}

// Images lists the library's image names, sorted.
func (s *Server) Images() []string { return s.lib.Names() }

// Errors of Grant.
var (
	ErrNoAddress = errors.New("media: the BMC has no address to bind the URL to")
	ErrTooMany   = errors.New("media: too many images inserted")
)

// Grant verifies the image again (its SHA-256) and issues a URL for it,
// usable only from addrs (the BMC's addresses) until Revoke or expiry. A
// BMC holds one grant: a new one replaces the old.
func (s *Server) Grant(ctx context.Context, bmc string, addrs []netip.Addr, image string) (Grant, error) {
	if len(addrs) == 0 {
		return Grant{}, ErrNoAddress
	}
	file, err := s.lib.Check(ctx, image)
	if err != nil {
		return Grant{}, err
	}
	var tok [tokenBytes]byte
	if _, err := rand.Read(tok[:]); err != nil {
		file.Close()
		return Grant{}, fmt.Errorf("media: %w", err)
	}
	text := base64.RawURLEncoding.EncodeToString(tok[:])
	norm := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		norm[i] = a.Unmap().WithZone("")
	}
	g := &grant{Grant: Grant{
		BMC: bmc, Image: image, Size: file.Size(),
		URL:     s.base.String() + pathPrefix + text + "/" + url.PathEscape(image) + ".iso",
		Expires: s.o.Now().Add(s.o.Lifetime),
	}, addrs: norm, file: file}
	key := sha256.Sum256([]byte(text))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	if old, ok := s.byBMC[bmc]; ok {
		s.dropLocked(old)
	}
	if len(s.grants) >= maxGrants {
		file.Close()
		return Grant{}, ErrTooMany
	}
	s.grants[key] = g
	s.byBMC[bmc] = key
	return g.Grant, nil
}

// Revoke ends the BMC's grant (the image was ejected, the insert failed,
// the BMC left the config). It reports whether there was one.
func (s *Server) Revoke(bmc string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, ok := s.byBMC[bmc]
	if ok {
		s.dropLocked(key)
	}
	return ok
}

// Close ends every grant and closes their files.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.grants {
		s.dropLocked(key)
	}
}

// dropLocked ends a grant and closes its file (a fetch still reading it
// fails: the grant is over).
func (s *Server) dropLocked(key [sha256.Size]byte) {
	g := s.grants[key]
	if g == nil {
		return
	}
	delete(s.grants, key)
	if s.byBMC[g.BMC] == key {
		delete(s.byBMC, g.BMC)
	}
	g.file.Close()
}

// RevokeIf ends the grants of the BMCs for which gone reports true (they
// left the config) and returns how many it ended.
func (s *Server) RevokeIf(gone func(bmc string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for bmc, key := range s.byBMC {
		if gone(bmc) {
			s.dropLocked(key)
			n++
		}
	}
	return n
}

// Granted returns the BMC's current grant, if any.
func (s *Server) Granted(bmc string) (Grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	key, ok := s.byBMC[bmc]
	if !ok {
		return Grant{}, false
	}
	return s.grants[key].Grant, true
}

// Owns reports whether url is a URL this server granted to bmc (and still
// valid): what a BMC's slot shows can be told from an image inserted
// around the gateway.
func (s *Server) Owns(bmc, u string) bool {
	g, ok := s.Granted(bmc)
	return ok && g.URL == u
}

func (s *Server) expireLocked() {
	now := s.o.Now()
	for key, g := range s.grants {
		if !now.Before(g.Expires) {
			s.dropLocked(key)
		}
	}
}

// lookup finds the grant of a request path's token (a copy).
func (s *Server) lookup(token string) (grant, bool) {
	key := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grants[key]
	if g == nil {
		return grant{}, false
	}
	if !s.o.Now().Before(g.Expires) {
		s.expireLocked()
		return grant{}, false
	}
	return *g, true
}

// ServeHTTP serves a granted image (GET and HEAD, ranges included) to the
// address it was granted to; everything else is refused without saying
// which check failed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.o.Now()
	cw := &countingWriter{ResponseWriter: w}
	f := Fetch{Method: r.Method, Client: clientIP(r.RemoteAddr), Range: bounded(r.Header.Get("Range"), 128)}
	defer func() {
		f.Status, f.Bytes, f.Duration = cw.status(), cw.n, s.o.Now().Sub(start)
		s.o.OnFetch(f)
	}()
	refuse := func(code int, why string) {
		f.Refused = why
		http.Error(cw, http.StatusText(code), code)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		cw.Header().Set("Allow", "GET, HEAD")
		refuse(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, pathPrefix)
	token, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || r.URL.RawQuery != "" || len(token) > 64 {
		refuse(http.StatusNotFound, "not an image URL")
		return
	}
	g, found := s.lookup(token)
	if !found {
		refuse(http.StatusNotFound, "unknown or expired URL")
		return
	}
	f.BMC, f.Image = g.BMC, g.Image
	if name != url.PathEscape(g.Image)+".iso" && name != g.Image+".iso" {
		refuse(http.StatusNotFound, "the URL's image name does not match its grant")
		return
	}
	ip, err := netip.ParseAddr(f.Client)
	if err != nil || !slices.Contains(g.addrs, ip.Unmap().WithZone("")) {
		refuse(http.StatusForbidden, "fetched from an address other than the BMC's")
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		cw.Header().Set("Retry-After", "5")
		refuse(http.StatusServiceUnavailable, "too many downloads at once")
		return
	}
	// The grant's file is the one hashed at the insert, held open; one
	// fstat shows it was not written to since.
	if err := g.file.Unchanged(); err != nil {
		s.o.Logger.Error("media: image not served", "bmc", g.BMC, "image", g.Image, "err", err)
		refuse(http.StatusServiceUnavailable, problem(err))
		return
	}
	h := cw.Header()
	h["Content-Type"] = contentType
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	// ServeContent answers Range and If-Range, HEAD, and 416 for ranges
	// outside the file; it reads through ReadAt, so concurrent requests
	// share the open file.
	http.ServeContent(cw, r, "", g.file.ModTime(), io.NewSectionReader(g.file, 0, g.file.Size()))
}

// Header values of every image answer, shared (never modified).
var (
	contentType = []string{"application/octet-stream"}
	noStore     = []string{"no-store"}
	noSniff     = []string{"nosniff"}
)

// countingWriter counts body bytes and remembers the status.
type countingWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadFrom hands the copy of a body to the server's own ReadFrom, which
// copies through a pooled buffer (and sendfile where it can), so a range
// answer allocates no copy buffer of its own.
func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	rf, ok := c.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, r)
	}
	n, err := rf.ReadFrom(r)
	c.n += n
	return n, err
}

func (c *countingWriter) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

// Unwrap lets http.ResponseController reach the connection.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func clientIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// bounded cuts s to n bytes and drops control characters.
func bounded(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// HTTPServer returns an http.Server for the listener with bounded header
// reads and idle connections. Writes are not bounded in time (an image
// may take long to read), only by the client's pace and MaxConcurrent.
func (s *Server) HTTPServer(logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.Background() },
	}
}
