package web

import (
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/configs"
)

// Break-glass logins are throttled so that guessing is slow and no stranger
// can lock the account's owner out:
//
//   - per source (an IPv4 address, an IPv6 /64): at most
//     login_limits.per_source_per_minute attempts, whatever the account;
//   - per source and account: after login_limits.max_failures failures,
//     each within login_limits.window of the last, that source waits before
//     its next try on that account — 1 minute, doubling with each further
//     failure, up to login_limits.lockout. Only the failing source waits: the owner
//     elsewhere is not locked out;
//   - per account, over all sources: at most
//     login_limits.per_account_per_minute attempts from browsers the
//     account does not know. This slows a guesser spread over many
//     addresses to a fixed rate; it locks nothing, and lifts as soon as the
//     guessing stops;
//   - a browser that has logged in to the account before holds a device
//     cookie for it (signed by the gateway, 90 days). Its attempts skip the
//     per-source and per-account limits and count against the device
//     alone (the same rate and backoff): a stranger, even one sharing the
//     owner's address, cannot make the owner's browser wait.
//
// Every limit keys on the account name as typed, known or not, so the
// answers to an unknown name and to a known one follow the same pattern.
// All of it lives in memory (a restart clears it); each map is bounded.

// Throttle bounds and steps.
const (
	backoffStart   = time.Minute
	maxLimiterKeys = 16384
)

// rateWindow counts events per key over the last minute.
type rateWindow struct {
	hits map[string][]time.Time
}

func newRateWindow() rateWindow { return rateWindow{hits: map[string][]time.Time{}} }

// allow counts an event for k at now and reports whether it is within
// limit per minute; an event over the limit is not counted. A full map is
// swept of idle keys first; if it is still full the event is refused.
func (w *rateWindow) allow(k string, limit int, now time.Time) bool {
	ts := within(w.hits[k], now.Add(-time.Minute))
	if len(ts) >= limit {
		w.hits[k] = ts
		return false
	}
	if _, ok := w.hits[k]; !ok && len(w.hits) >= maxLimiterKeys {
		for key, v := range w.hits {
			if len(within(v, now.Add(-time.Minute))) == 0 {
				delete(w.hits, key)
			}
		}
		if len(w.hits) >= maxLimiterKeys {
			return false
		}
	}
	w.hits[k] = append(ts, now)
	return true
}

// within keeps the times after since.
func within(ts []time.Time, since time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if t.After(since) {
			out = append(out, t)
		}
	}
	return out
}

// backoff is the failure state of one source and account, or one device:
// failures that followed each other within the window, how many waits they
// have cost, and the end of the current wait.
type backoff struct {
	count int
	level int
	last  time.Time
	until time.Time // no attempt before
}

// loginLimiter holds the break-glass throttles (see above).
type loginLimiter struct {
	mu       sync.Mutex
	lim      configs.WebLoginLimits
	sources  rateWindow
	accounts rateWindow
	devices  rateWindow
	backoffs map[string]*backoff // "s\x00source\x00account" or "d\x00device"
}

func newLoginLimiter(l configs.WebLoginLimits) *loginLimiter {
	return &loginLimiter{lim: l, sources: newRateWindow(), accounts: newRateWindow(), devices: newRateWindow(),
		backoffs: map[string]*backoff{}}
}

func (l *loginLimiter) reload(lim configs.WebLoginLimits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lim = lim
}

// loginAttempt is who tries to log in to which account: the source key,
// the account name as typed, and the device id of a valid device cookie
// for that account ("" without one).
type loginAttempt struct {
	source, account, device string
}

func (a loginAttempt) backoffKey() string {
	if a.device != "" {
		return "d\x00" + a.device
	}
	return "s\x00" + a.source + "\x00" + a.account
}

// admit counts an attempt and returns "" when it may go ahead, or which
// limit holds it back (for the audit record; the user sees one message).
func (l *loginLimiter) admit(a loginAttempt, now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.backoffs[a.backoffKey()]; b != nil && now.Before(b.until) {
		if a.device != "" {
			return "this device is waiting after repeated failures"
		}
		return "this address is waiting after repeated failures on this account"
	}
	if a.device != "" {
		if !l.devices.allow(a.device, l.lim.PerSourcePerMinute, now) {
			return "too many attempts from this device"
		}
		return ""
	}
	if !l.sources.allow(a.source, l.lim.PerSourcePerMinute, now) {
		return "too many attempts from this address"
	}
	if !l.accounts.allow(a.account, l.lim.PerAccountPerMinute, now) {
		return "too many attempts on this account from unknown browsers"
	}
	return ""
}

// fail records a failed attempt. Failures count while each follows the
// last within the window; from the max_failures-th on, each makes the
// source (or device) wait, twice as long as the last time, up to the
// lockout.
func (l *loginLimiter) fail(a loginAttempt, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := a.backoffKey()
	b := l.backoffs[k]
	if b == nil {
		if len(l.backoffs) >= maxLimiterKeys {
			l.sweepLocked(now)
		}
		if len(l.backoffs) >= maxLimiterKeys {
			return // the per-source and per-account rates still hold
		}
		b = &backoff{}
		l.backoffs[k] = b
	}
	if now.Sub(b.last) > l.lim.Window.Duration {
		b.count, b.level = 0, 0 // the last failure is older than the window
	}
	b.count++
	b.last = now
	if b.count >= l.lim.MaxFailures {
		d := l.lim.Lockout.Duration
		if b.level < 16 && backoffStart<<b.level < d {
			d = backoffStart << b.level
		}
		b.until = now.Add(d)
		b.level++
	}
}

// success forgets the failures of the attempt's source (or device) on the
// account.
func (l *loginLimiter) success(a loginAttempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.backoffs, a.backoffKey())
}

// sweepLocked drops failure states that neither wait nor count any more.
func (l *loginLimiter) sweepLocked(now time.Time) {
	for k, b := range l.backoffs {
		if now.After(b.until) && now.Sub(b.last) > l.lim.Window.Duration {
			delete(l.backoffs, k)
		}
	}
}

// sourceLimiter is a per-source rate alone (single sign-on starts).
type sourceLimiter struct {
	mu    sync.Mutex
	limit int
	w     rateWindow
}

func newSourceLimiter(limit int) *sourceLimiter {
	return &sourceLimiter{limit: limit, w: newRateWindow()}
}

func (s *sourceLimiter) allowSource(src string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.allow(src, s.limit, now)
}
