package webui

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Credentials are the gateway's own login on a BMC's web interface. They
// redact themselves for fmt and log/slog.
type Credentials struct {
	Username string
	Password string
}

// String hides the password.
func (c Credentials) String() string { return "{" + c.Username + " [redacted]}" }

// GoString hides the password.
func (c Credentials) GoString() string { return c.String() }

// Format hides the password for every verb.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue hides the password.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", "[redacted]"))
}

// Session is one BMC-side web session: the cookies and headers the gateway
// attaches to each request it forwards, and the values captured at login
// that the logout request needs. Its values never leave the gateway except
// toward the BMC.
type Session struct {
	mu       sync.Mutex
	cookies  map[string]string // replayed as Cookie
	headers  map[string]string // replayed as headers
	vars     map[string]string // everything captured, for logout templates
	lastUsed time.Time
	stale    bool // the BMC answered 401: log in again
}

func newSession() *Session {
	return &Session{cookies: map[string]string{}, headers: map[string]string{}, vars: map[string]string{}, lastUsed: time.Now()}
}

// NewStaticSession returns a session that replays fixed headers and
// cookies; for BMCs reached with a long-lived token, and for tests.
func NewStaticSession(headers, cookies map[string]string) *Session {
	s := newSession()
	for k, v := range headers {
		s.headers[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range cookies {
		s.cookies[k] = v
	}
	return s
}

// String hides the session's values.
func (s *Session) String() string { return "web.Session{[redacted]}" }

// LogValue hides the session's values.
func (s *Session) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// apply attaches the session to an outbound request header.
func (s *Session) apply(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastUsed = time.Now()
	for k, v := range s.headers {
		h.Set(k, v)
	}
	if len(s.cookies) == 0 {
		return
	}
	removeCookies(h, func(name string) bool { _, ok := s.cookies[name]; return ok })
	for name, v := range s.cookies {
		c := (&http.Cookie{Name: name, Value: v}).String()
		if c == "" {
			continue
		}
		if old := h.Get("Cookie"); old != "" {
			h.Set("Cookie", old+"; "+c)
		} else {
			h.Set("Cookie", c)
		}
	}
}

func (s *Session) ownsCookie(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.cookies[name]
	return ok
}

// updateCookie takes a refreshed value of a session cookie from the BMC. An
// expired or empty cookie is ignored: the session ends by the pool's
// logout, not by the BMC's response to a user's request.
func (s *Session) updateCookie(c *http.Cookie) {
	if c.Value == "" || c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
		return
	}
	s.mu.Lock()
	s.cookies[c.Name] = c.Value
	s.mu.Unlock()
}

func (s *Session) lastUse() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastUsed
}

// markStale records that the BMC no longer accepts the session.
func (s *Session) markStale() {
	s.mu.Lock()
	s.stale = true
	s.mu.Unlock()
}

func (s *Session) isStale() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stale
}

func (s *Session) touch() {
	s.mu.Lock()
	s.lastUsed = time.Now()
	s.mu.Unlock()
}
