package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

// bgServer is a clock server with the break-glass account "oncall" (role
// admin) and tight limits; it counts password checks by their cost.
type bgServer struct {
	*clockServer
	totp  breakglass.TOTP
	mu    sync.Mutex
	costs map[string]int // argon2id cost -> checks
}

func newBGServer(t *testing.T) *bgServer {
	t.Helper()
	cheap := breakglass.Params{Memory: 8 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	hash, err := breakglass.HashPassword([]byte("oncall-password-1"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	key, b32, err := breakglass.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "totp")
	if err := os.WriteFile(secret, []byte(b32+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cs := newClockServerWith(t, fmt.Sprintf(`  login_limits: {max_failures: 3, per_source_per_minute: 20, per_account_per_minute: 6}
  break_glass:
    - name: oncall
      password_hash: %q
      totp_secret_file: %q
      roles: [admin]
`, hash, secret))
	s := &bgServer{clockServer: cs, totp: breakglass.TOTP{Key: key}, costs: map[string]int{}}
	s.verify = func(h breakglass.Hash, pw []byte) bool {
		m, p, l, k := h.Cost()
		s.mu.Lock()
		s.costs[fmt.Sprint(m, p, l, k)]++
		s.mu.Unlock()
		return h.Verify(pw)
	}
	return s
}

// answer is what the browser sees of a break-glass login.
type answer struct {
	Status   int
	Location string
	Body     string
}

// login posts the break-glass form from remote ("10.0.0.1") with the
// cookies given and returns the answer and the cookies set.
func (s *bgServer) login(user, password, code, remote string, cookies ...*http.Cookie) (answer, []*http.Cookie) {
	form := url.Values{"user": {user}, "password": {password}, "code": {code}, "return": {"/"}}
	req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8443/login/breakglass", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://127.0.0.1:8443")
	req.RemoteAddr = remote + ":40000"
	req.TLS.ServerName = "" // no SNI for an address (httptest puts the Host there)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header().Get("Location"), rec.Body.String()}, rec.Result().Cookies()
}

func (s *bgServer) code() string { return s.totp.Code(s.totp.Step(s.now)) }

// TestBreakGlassSameAnswers: a known account and an unknown name get the
// same answers, attempt for attempt, under the same sequence of wrong
// logins and throttling, and cost the same password checks.
func TestBreakGlassSameAnswers(t *testing.T) {
	run := func(name string) ([]answer, map[string]int) {
		s := newBGServer(t)
		var out []answer
		for i := range 8 { // from one source: failures, then backoff
			a, _ := s.login(name, "wrong-password", "000000", "10.0.0.1")
			out = append(out, a)
			s.now = s.now.Add(time.Second * time.Duration(i))
		}
		for i := range 8 { // from many sources: the account rate
			a, _ := s.login(name, "wrong-password", "000000", fmt.Sprintf("10.0.1.%d", i))
			out = append(out, a)
		}
		return out, s.costs
	}
	known, knownCosts := run("oncall")
	unknown, unknownCosts := run("ghost")
	for i := range known {
		if known[i] != unknown[i] {
			t.Errorf("attempt %d: known account %+v, unknown %+v", i+1, known[i], unknown[i])
		}
	}
	if fmt.Sprint(knownCosts) != fmt.Sprint(unknownCosts) || len(knownCosts) != 1 {
		t.Errorf("password checks: known %v, unknown %v", knownCosts, unknownCosts)
	}
	var waits, fails int
	for _, a := range known {
		switch {
		case strings.Contains(a.Location, "error=wait"):
			waits++
		case strings.Contains(a.Location, "error=failed"):
			fails++
		}
	}
	if waits == 0 || fails == 0 || waits+fails != len(known) {
		t.Errorf("%d waits, %d failures of %d: %+v", waits, fails, len(known), known)
	}
}

// TestBreakGlassStrangerCannotLockOut: a stranger's failures make the
// stranger wait, not the owner at another address; guesses spread over
// many addresses slow unknown browsers, while the owner's browser that
// logged in before gets through.
func TestBreakGlassStrangerCannotLockOut(t *testing.T) {
	s := newBGServer(t)
	for range 10 {
		s.login("oncall", "wrong-password", "000000", "192.0.2.66")
	}
	if a, _ := s.login("oncall", "oncall-password-1", s.code(), "192.0.2.66"); !strings.Contains(a.Location, "error=wait") {
		t.Fatalf("the stranger's address is not held: %+v", a)
	}
	a, cookies := s.login("oncall", "oncall-password-1", s.code(), "198.51.100.7")
	if a.Status != http.StatusSeeOther || a.Location != "/" {
		t.Fatalf("the owner at another address was locked out: %+v", a)
	}
	var device *http.Cookie
	for _, c := range cookies {
		if c.Name == DeviceCookie {
			device = c
		}
	}
	if device == nil || device.SameSite != http.SameSiteStrictMode || !device.HttpOnly || !device.Secure {
		t.Fatalf("device cookie %+v", device)
	}

	// A guesser on many addresses, and on the owner's own address too.
	s.now = s.now.Add(31 * time.Second) // a fresh TOTP step
	for i := range 12 {
		s.login("oncall", "wrong-password", "000000", fmt.Sprintf("203.0.113.%d", i))
	}
	for range 10 {
		s.login("oncall", "wrong-password", "000000", "198.51.100.7")
	}
	if a, _ := s.login("oncall", "oncall-password-1", s.code(), "198.51.100.8"); !strings.Contains(a.Location, "error=wait") {
		t.Fatalf("an unknown browser is not slowed during a spread guess: %+v", a)
	}
	// A forged device cookie counts for nothing.
	forged := &http.Cookie{Name: DeviceCookie, Value: strings.Replace(device.Value, ".", "x.", 1)}
	if a, _ := s.login("oncall", "oncall-password-1", s.code(), "198.51.100.7", forged); !strings.Contains(a.Location, "error=wait") {
		t.Fatalf("a forged device cookie skipped the limits: %+v", a)
	}
	if a, _ := s.login("oncall", "oncall-password-1", s.code(), "198.51.100.7", device); a.Location != "/" {
		t.Fatalf("the owner's known browser was held by strangers: %+v", a)
	}
	// Nor does one of another account.
	if s.deviceFor(httptestWithCookie(device), "other", s.now) != "" {
		t.Fatal("a device cookie counted for another account")
	}
}

func httptestWithCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	return r
}
