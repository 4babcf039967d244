package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
)

func testLimits() configs.WebLoginLimits {
	return configs.WebLoginLimits{MaxFailures: 3, Window: configs.Duration{Duration: 15 * time.Minute},
		Lockout: configs.Duration{Duration: 10 * time.Minute}, PerSourcePerMinute: 5, PerAccountPerMinute: 4}
}

func TestLoginLimiterSourceRate(t *testing.T) {
	l := newLoginLimiter(testLimits())
	now := time.Unix(1_800_000_000, 0)
	for i := range 5 {
		if why := l.admit(loginAttempt{source: "a", account: "u" + strconv.Itoa(i)}, now); why != "" {
			t.Fatalf("attempt %d: %s", i, why)
		}
	}
	if why := l.admit(loginAttempt{source: "a", account: "other"}, now); why == "" {
		t.Fatal("sixth attempt from one source within a minute admitted")
	}
	if why := l.admit(loginAttempt{source: "b", account: "other"}, now); why != "" {
		t.Fatalf("another source: %s", why)
	}
	if why := l.admit(loginAttempt{source: "a", account: "other"}, now.Add(61*time.Second)); why != "" {
		t.Fatalf("a minute later: %s", why)
	}
}

// TestLoginLimiterBackoff: failures make the failing source wait, doubling,
// up to the lockout; the same account from another source is not held.
func TestLoginLimiterBackoff(t *testing.T) {
	l := newLoginLimiter(testLimits())
	now := time.Unix(1_800_000_000, 0)
	stranger := loginAttempt{source: "stranger", account: "oncall"}
	owner := loginAttempt{source: "owner", account: "oncall"}
	for range 3 {
		if why := l.admit(stranger, now); why != "" {
			t.Fatal(why)
		}
		l.fail(stranger, now)
	}
	if l.admit(stranger, now.Add(59*time.Second)) == "" {
		t.Fatal("no wait after max_failures")
	}
	if why := l.admit(owner, now.Add(59*time.Second)); why != "" {
		t.Fatalf("the owner at another address waits: %s", why)
	}
	// Each further failure doubles the wait: 2m, 4m, 8m, then the lockout.
	at := now.Add(time.Minute)
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		if why := l.admit(stranger, at); why != "" {
			t.Fatalf("at %s: %s", at.Sub(now), why)
		}
		l.fail(stranger, at)
		if l.admit(stranger, at.Add(want-time.Second)) == "" {
			t.Fatalf("wait shorter than %s", want)
		}
		at = at.Add(want)
	}
	l.success(stranger)
	if why := l.admit(stranger, at); why != "" {
		t.Fatalf("after a success: %s", why)
	}
}

// TestLoginLimiterAccountRate: attempts on one account from many sources
// are slowed to per_account_per_minute, not locked, and a known device is
// not held by them.
func TestLoginLimiterAccountRate(t *testing.T) {
	l := newLoginLimiter(testLimits())
	now := time.Unix(1_800_000_000, 0)
	for i := range 4 {
		if why := l.admit(loginAttempt{source: "s" + strconv.Itoa(i), account: "oncall"}, now); why != "" {
			t.Fatalf("attempt %d: %s", i, why)
		}
	}
	if l.admit(loginAttempt{source: "owner", account: "oncall"}, now) == "" {
		t.Fatal("fifth attempt on the account within a minute admitted from an unknown browser")
	}
	if why := l.admit(loginAttempt{source: "owner", account: "oncall", device: "dev1"}, now); why != "" {
		t.Fatalf("known device held by the account rate: %s", why)
	}
	if why := l.admit(loginAttempt{source: "owner", account: "oncall"}, now.Add(61*time.Second)); why != "" {
		t.Fatalf("the rate did not lift: %s", why)
	}
	// A device's own failures hold that device only.
	dev := loginAttempt{source: "owner", account: "oncall", device: "dev2"}
	for range 3 {
		l.fail(dev, now)
	}
	if l.admit(dev, now) == "" {
		t.Fatal("device not held after its failures")
	}
	if why := l.admit(loginAttempt{source: "owner", account: "oncall", device: "dev1"}, now); why != "" {
		t.Fatalf("another device held: %s", why)
	}
}

func TestLoginLimiterBounded(t *testing.T) {
	l := newLoginLimiter(testLimits())
	now := time.Unix(1_800_000_000, 0)
	for i := range maxLimiterKeys + 10 {
		a := loginAttempt{source: "s" + strconv.Itoa(i), account: "u" + strconv.Itoa(i)}
		l.admit(a, now)
		l.fail(a, now)
	}
	if len(l.sources.hits) > maxLimiterKeys || len(l.accounts.hits) > maxLimiterKeys || len(l.backoffs) > maxLimiterKeys {
		t.Fatalf("maps grew past the bound: %d %d %d", len(l.sources.hits), len(l.accounts.hits), len(l.backoffs))
	}
	// Once the old entries are idle, new keys fit again.
	later := now.Add(time.Hour)
	if why := l.admit(loginAttempt{source: "new", account: "new"}, later); why != "" {
		t.Fatalf("after the entries went idle: %s", why)
	}
}
