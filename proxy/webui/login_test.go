package webui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/usererr"
)

const (
	bmcUser     = "bmcgate"
	bmcPassword = `s3cr&t=%x+y`
)

// TestShippedProfiles logs in with every shipped profile against a fake BMC
// that implements the vendor's flow, uses the session (a write that needs
// the vendor's CSRF token) and logs out.
func TestShippedProfiles(t *testing.T) {
	want := map[string]string{
		ProfileRedfish: "redfish", ProfileOpenBMC: "openbmc", ProfileIDRAC9: "idrac9",
		ProfileILO5: "ilo", ProfileILO6: "ilo", ProfileSupermicro: "supermicro",
	}
	if len(want) != len(BuiltinNames()) {
		t.Fatalf("profiles %v not all tested", BuiltinNames())
	}
	for _, name := range BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			vendor, bmc := newVendorBMC(t, bmcUser, bmcPassword)
			p := mustNew(t, pinnedConfig(bmc))
			prof := Builtin(name)
			if prof.Doc == "" {
				t.Error("profile without documentation")
			}
			ctx := context.Background()
			s, err := p.Login(ctx, prof, Credentials{Username: bmcUser, Password: bmcPassword})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			fr := newFront(t, p, Request{Session: s})
			for _, m := range []string{"GET", "POST"} {
				resp, body := fr.do(t, m, "/api/whoami", strings.NewReader("{}"), map[string]string{"Origin": "https://" + publicHost})
				if resp.StatusCode != 200 || body != want[name] {
					t.Errorf("%s through the session: %d %q", m, resp.StatusCode, body)
				}
			}
			if err := p.Logout(ctx, prof, s); err != nil {
				t.Fatalf("logout: %v", err)
			}
			if vendor.active() != 0 {
				t.Errorf("%d BMC sessions left after logout", vendor.active())
			}
		})
	}
}

func TestLoginFailuresAreSafe(t *testing.T) {
	for _, name := range BuiltinNames() {
		_, bmc := newVendorBMC(t, bmcUser, bmcPassword)
		p := mustNew(t, pinnedConfig(bmc))
		wrong := "Wr0ng-pa55word"
		_, err := p.Login(context.Background(), Builtin(name), Credentials{Username: bmcUser, Password: wrong})
		if err == nil {
			t.Errorf("%s: wrong password accepted", name)
			continue
		}
		if !errors.Is(err, ErrLogin) || strings.Contains(err.Error(), wrong) || usererr.MessageOr(err, "") != loginFailed {
			t.Errorf("%s: error %q", name, err)
		}
	}
	// A password that cannot be put in a header is refused, not mangled.
	_, bmc := newVendorBMC(t, bmcUser, `a"b`)
	p := mustNew(t, pinnedConfig(bmc))
	_, err := p.Login(context.Background(), Builtin(ProfileIDRAC9), Credentials{Username: bmcUser, Password: "a\"b\r\nX-Evil: 1"})
	if err == nil || strings.Contains(err.Error(), "Evil") {
		t.Errorf("header injection: %v", err)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	c := Credentials{Username: "u", Password: "hunter2"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password shown: %s", s)
		}
	}
}

func TestProfileValidate(t *testing.T) {
	for _, name := range BuiltinNames() {
		if err := Builtin(name).Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := []*Profile{
		{Name: "x"},
		{Name: "x", Login: []Step{{Path: "/a"}}},
		{Name: "x", Login: []Step{{Method: "POST", Path: "/a", Capture: []Capture{{Var: "v", From: "body"}}}}},
		{Name: "x", Login: []Step{{Method: "POST", Path: "/a", Capture: []Capture{{Var: "v", From: FromBodyRegex, Name: "no group"}}}}},
		{Name: "x", Login: []Step{{Method: "POST", Path: "/a"}}, Replay: []Replay{{As: "header", Name: "H", Var: "never"}}},
	}
	for i, p := range bad {
		if p.Validate() == nil {
			t.Errorf("bad profile %d accepted", i)
		}
	}
}

func TestPool(t *testing.T) {
	vendor, bmc := newVendorBMC(t, bmcUser, bmcPassword)
	p := mustNew(t, pinnedConfig(bmc))
	pool, err := p.NewPool(PoolConfig{Profile: Builtin(ProfileRedfish), Credentials: Credentials{Username: bmcUser, Password: bmcPassword}, MaxSessions: 2, IdleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// One login per key, even with concurrent callers.
	var wg sync.WaitGroup
	got := make([]*Session, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pool.Acquire(ctx, "user-a")
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] {
			t.Fatal("one key got several sessions")
		}
	}
	if logins, _ := vendor.counts(); logins != 1 {
		t.Errorf("%d logins for one key", logins)
	}
	if _, err := pool.Acquire(ctx, "user-b"); err != nil {
		t.Fatal(err)
	}
	// The cap.
	if _, err := pool.Acquire(ctx, "user-c"); !errors.Is(err, ErrPoolFull) {
		t.Errorf("third session: %v", err)
	}
	// Release logs out.
	pool.Release(ctx, "user-b")
	if vendor.active() != 1 || pool.Len() != 1 {
		t.Errorf("after release: %d BMC sessions, %d pooled", vendor.active(), pool.Len())
	}
	if _, err := pool.Acquire(ctx, "user-c"); err != nil {
		t.Errorf("after release: %v", err)
	}

	// The BMC ends a session: the next request gets 401, the next Acquire
	// logs in afresh.
	sa, _ := pool.Acquire(ctx, "user-a")
	vendor.mu.Lock()
	for k := range vendor.sessions {
		if sa.headers["X-Auth-Token"] == k {
			delete(vendor.sessions, k)
		}
	}
	vendor.mu.Unlock()
	fr := newFront(t, p, Request{Session: sa})
	if resp, _ := fr.do(t, "GET", "/api/whoami", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("expired session: %d", resp.StatusCode)
	}
	sa2, err := pool.Acquire(ctx, "user-a")
	if err != nil || sa2 == sa {
		t.Fatalf("no fresh session after expiry: %v", err)
	}

	// Idle sessions are logged out by Sweep.
	if n := pool.Sweep(ctx); n != 0 {
		t.Errorf("sweep ended %d sessions in use", n)
	}
	pool.now = func() time.Time { return time.Now().Add(pool.cfg.IdleTimeout + time.Second) }
	if n := pool.Sweep(ctx); n != 2 || vendor.active() != 0 {
		t.Errorf("sweep ended %d, %d BMC sessions left", n, vendor.active())
	}
	pool.now = time.Now
	if _, err := pool.Acquire(ctx, "user-d"); err != nil {
		t.Fatal(err)
	}
	pool.Close(ctx)
	if vendor.active() != 0 {
		t.Errorf("%d BMC sessions left after Close", vendor.active())
	}
	if _, err := pool.Acquire(ctx, "user-e"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestPoolLoginFailureFreesSlot(t *testing.T) {
	_, bmc := newVendorBMC(t, bmcUser, bmcPassword)
	p := mustNew(t, pinnedConfig(bmc))
	pool, err := p.NewPool(PoolConfig{Profile: Builtin(ProfileRedfish), Credentials: Credentials{Username: bmcUser, Password: "wrong"}, MaxSessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := pool.Acquire(context.Background(), "k"); !errors.Is(err, ErrLogin) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if pool.Len() != 0 {
		t.Errorf("failed logins hold %d slots", pool.Len())
	}
}
