package creds

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(dir, Options{Now: c.now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestIssueShape(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	s := open(t, t.TempDir(), c)
	seen := map[string]bool{}
	for range 50 {
		cr, pw, err := s.Issue(Request{Owner: "alice", Lifetime: time.Hour})
		if errors.Is(err, ErrTooMany) {
			break
		}
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if len(cr.User) != UserLen || strings.Trim(cr.User, lowerAlnum) != "" {
			t.Errorf("user %q: want %d lower-case letters and digits", cr.User, UserLen)
		}
		if len(pw) < 20 || len(pw) != PasswordLen || strings.Trim(pw, alnum) != "" {
			t.Errorf("password of %d bytes, want %d letters and digits", len(pw), PasswordLen)
		}
		if seen[cr.User] || seen[pw] {
			t.Errorf("repeated user name or password")
		}
		seen[cr.User], seen[pw] = true, true
		if cr.Hash != nil || cr.Sealed != nil {
			t.Errorf("Issue returned the stored hash or sealed password")
		}
		if !cr.Expires.Equal(c.now().Add(time.Hour)) {
			t.Errorf("expires %v, want an hour from now", cr.Expires)
		}
	}
	if got := len(s.Of("alice")); got != MaxPerOwner {
		t.Errorf("alice holds %d credentials, want the bound %d", got, MaxPerOwner)
	}
	if _, _, err := s.Issue(Request{Owner: "bob"}); err != nil {
		t.Errorf("another owner is not bound by alice's count: %v", err)
	}
}

func TestIssueBounds(t *testing.T) {
	s := open(t, t.TempDir(), &clock{t: time.Unix(1e9, 0)})
	many := make([]string, maxScope+1)
	for _, tc := range []struct {
		name string
		req  Request
		want error
	}{
		{"default lifetime", Request{Owner: "a"}, nil},
		{"longest lifetime", Request{Owner: "a", Lifetime: MaxLifetime}, nil},
		{"too long", Request{Owner: "a", Lifetime: MaxLifetime + time.Second}, ErrLifetime},
		{"negative", Request{Owner: "a", Lifetime: -time.Second}, ErrLifetime},
		{"too many actions", Request{Owner: "a", Scope: many}, ErrScope},
		{"too many targets", Request{Owner: "a", Targets: many}, ErrScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, _, err := s.Issue(tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Issue: %v, want %v", err, tc.want)
			}
			if err == nil && tc.req.Lifetime == 0 && cr.Expires.Sub(cr.Issued) != DefaultLifetime {
				t.Errorf("lifetime %v, want %v", cr.Expires.Sub(cr.Issued), DefaultLifetime)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, t.TempDir(), c)
	live, pw, _ := s.Issue(Request{Owner: "alice", Lifetime: 2 * time.Hour})
	short, spw, _ := s.Issue(Request{Owner: "alice", Lifetime: time.Hour})
	gone, gpw, _ := s.Issue(Request{Owner: "alice"})
	if _, err := s.Revoke("alice", gone.User); err != nil {
		t.Fatal(err)
	}
	c.add(time.Hour) // short has just expired
	for _, tc := range []struct {
		name, user, pw string
		ok             bool
	}{
		{"live", live.User, pw, true},
		{"wrong password", live.User, spw, false},
		{"empty password", live.User, "", false},
		{"unknown user", "bgnosuchuser0000", pw, false},
		{"expired", short.User, spw, false},
		{"revoked", gone.User, gpw, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Verify(tc.user, tc.pw)
			if tc.ok {
				if err != nil || got.User != tc.user || got.Owner != "alice" {
					t.Fatalf("Verify = %+v, %v; want alice's credential", got, err)
				}
				return
			}
			if err != ErrRefused {
				t.Fatalf("Verify: %v, want ErrRefused and nothing else", err)
			}
		})
	}
}

func TestPermits(t *testing.T) {
	for _, tc := range []struct {
		name           string
		scope, targets []string
		action, target string
		want           bool
	}{
		{"no scope", nil, nil, "power.cycle", "web1", true},
		{"in scope", []string{"power.status", "power.cycle"}, nil, "power.cycle", "web1", true},
		{"out of scope", []string{"power.status"}, nil, "power.cycle", "web1", false},
		{"on target", nil, []string{"web1"}, "power.cycle", "web1", true},
		{"off target", nil, []string{"web1"}, "power.cycle", "web2", false},
		{"both, one off", []string{"power.cycle"}, []string{"web1"}, "boot.set", "web1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := Credential{Scope: tc.scope, Targets: tc.targets}
			if got := cr.Permits(tc.action, tc.target); got != tc.want {
				t.Errorf("Permits(%s, %s) = %v, want %v", tc.action, tc.target, got, tc.want)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, t.TempDir(), c)
	cr, _, _ := s.Issue(Request{Owner: "alice"})
	if _, err := s.Revoke("bob", cr.User); err != ErrNotFound {
		t.Errorf("bob revoked alice's credential: %v", err)
	}
	if _, err := s.Revoke("alice", "bgnosuchuser0000"); err != ErrNotFound {
		t.Errorf("revoke of an unknown credential: %v", err)
	}
	got, err := s.Revoke("alice", cr.User)
	if err != nil || got.Revoked.IsZero() || got.Live(c.now()) {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	again, err := s.Revoke("alice", cr.User)
	if err != nil || !again.Revoked.Equal(got.Revoked) {
		t.Errorf("second revoke = %+v, %v; want the first revocation kept", again, err)
	}
	if l := s.Of("alice"); len(l) != 1 || l[0].Revoked.IsZero() {
		t.Errorf("alice's list %+v: want the revoked credential shown until it expires", l)
	}
	c.add(DefaultLifetime)
	if l := s.Of("alice"); len(l) != 0 {
		t.Errorf("alice's list after expiry: %+v", l)
	}
}

// TestAtRest: the credential file holds no password, the RMCP+ password is
// recoverable only with the key file, both files are 0600, and the store
// reopens with its state.
func TestAtRest(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Unix(1e9, 0)}
	s := open(t, dir, c)
	rf, rpw, _ := s.Issue(Request{Owner: "alice", Scope: []string{"power.status"}, Targets: []string{"web1"}})
	ip, ipw, _ := s.Issue(Request{Owner: "alice", RMCP: true})
	data, err := os.ReadFile(filepath.Join(dir, datadir.Credentials))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(rpw)) || bytes.Contains(data, []byte(ipw)) {
		t.Fatalf("%s holds a password in the clear", datadir.Credentials)
	}
	for _, name := range []string{datadir.Credentials, datadir.CredentialsKey} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", name, err, fi.Mode().Perm())
		}
	}
	if _, _, err := s.Secret(rf.User); err != ErrNoSecret {
		t.Errorf("Secret of a Redfish-only credential: %v", err)
	}

	s2 := open(t, dir, c)
	if _, err := s2.Verify(rf.User, rpw); err != nil {
		t.Errorf("reopened store: %v", err)
	}
	got, pw, err := s2.Secret(ip.User)
	if err != nil || string(pw) != ipw || got.Owner != "alice" {
		t.Errorf("reopened Secret = %q, %v", pw, err)
	}
	if l := s2.Of("alice"); len(l) != 2 {
		t.Errorf("reopened list %+v", l)
	}
	if got, ok := s2.Lookup(rf.User); !ok || len(got.Scope) != 1 || got.Scope[0] != "power.status" || len(got.Targets) != 1 || got.Targets[0] != "web1" || got.RMCP {
		t.Errorf("reopened credential %+v, %v", got, ok)
	}

	// The credential file with another key discloses nothing.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, datadir.Credentials), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := open(t, other, c).Secret(ip.User); err == nil || errors.Is(err, ErrRefused) {
		t.Errorf("Secret under a new key: %v, want an unseal error", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		data       []byte
		mode       os.FileMode
		want       string
	}{
		{"key readable by others", datadir.CredentialsKey, make([]byte, 32), 0o644, "too open"},
		{"short key", datadir.CredentialsKey, make([]byte, 16), 0o600, "16 bytes, want 32"},
		{"store readable by others", datadir.Credentials, []byte("[]"), 0o640, "too open"},
		{"store not JSON", datadir.Credentials, []byte("{"), 0o600, datadir.Credentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), tc.data, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestRandomStringUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 62 * 400
	for _, b := range []byte(randomString(n, alnum)) {
		counts[b]++
	}
	if len(counts) != len(alnum) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(alnum))
	}
	for b, k := range counts {
		if k < 250 || k > 550 { // mean 400; far outside is a biased draw
			t.Errorf("%q drawn %d times of %d", b, k, n)
		}
	}
}

// TestKeyCreatedOnce: a store opened beside another never replaces the key
// the other sealed with.
func TestKeyCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.Unix(1e9, 0)}
	a := open(t, dir, c)
	cr, pw, _ := a.Issue(Request{Owner: "alice", RMCP: true})
	key, _ := os.ReadFile(filepath.Join(dir, datadir.CredentialsKey))
	b := open(t, dir, c)
	if now, _ := os.ReadFile(filepath.Join(dir, datadir.CredentialsKey)); !bytes.Equal(now, key) {
		t.Fatal("a second Open replaced the key")
	}
	if _, got, err := b.Secret(cr.User); err != nil || string(got) != pw {
		t.Errorf("Secret through the second store: %q, %v", got, err)
	}
}

// TestOwnerKept checks that the owner's account source and provider groups
// survive a restart, and that the store hands out copies.
func TestOwnerKept(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	s := open(t, dir, c)
	cred, _, err := s.Issue(Request{Owner: "alice", Source: "sso", Groups: []string{"ops", "viewers"}})
	if err != nil {
		t.Fatal(err)
	}
	cred.Groups[0] = "changed"
	got, ok := open(t, dir, c).Lookup(cred.User)
	if !ok || got.Source != "sso" || strings.Join(got.Groups, ",") != "ops,viewers" {
		t.Fatalf("after reopening: %+v", got)
	}
}
