package web

import (
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

// loginLimiter rate-limits break-glass logins per source address and locks
// an account after too many failures in a window. It lives in memory: a
// restart clears it (the TOTP replay guard is persistent).
type loginLimiter struct {
	mu       sync.Mutex
	lim      configs.WebLoginLimits
	sources  map[string][]time.Time // attempts in the last minute
	failures map[string][]time.Time // failures in the window
	locked   map[string]time.Time   // until
	hashing  chan struct{}          // bounds concurrent argon2id runs
}

func newLoginLimiter(l configs.WebLoginLimits) *loginLimiter {
	return &loginLimiter{lim: l, sources: map[string][]time.Time{}, failures: map[string][]time.Time{},
		locked: map[string]time.Time{}, hashing: make(chan struct{}, 2)}
}

func (l *loginLimiter) reload(lim configs.WebLoginLimits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lim = lim
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

// allowSource counts an attempt from src and reports whether it is within
// the per-minute limit.
func (l *loginLimiter) allowSource(src string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := within(l.sources[src], now.Add(-time.Minute))
	if len(ts) >= l.lim.PerSourcePerMinute {
		l.sources[src] = ts
		return false
	}
	l.sources[src] = append(ts, now)
	return true
}

// isLocked reports whether user is locked out.
func (l *loginLimiter) isLocked(user string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.locked[user]
	if ok && now.After(until) {
		delete(l.locked, user)
		return false
	}
	return ok
}

// fail records a failure and reports whether it locked the account.
func (l *loginLimiter) fail(user string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := append(within(l.failures[user], now.Add(-l.lim.Window.Duration)), now)
	l.failures[user] = ts
	if len(ts) >= l.lim.MaxFailures {
		l.locked[user] = now.Add(l.lim.Lockout.Duration)
		delete(l.failures, user)
		return true
	}
	return false
}

func (l *loginLimiter) success(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, user)
}

// breakGlassLogin checks a local account's password (argon2id) and TOTP
// code. Every attempt is audited and marked breakglass; unknown users cost
// the same hashing work as known ones.
func (s *Server) breakGlassLogin(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOrigin(r); err != nil {
		s.refuseCSRF(w, r, nil, err)
		return
	}
	now := s.now()
	src := remoteIP(r)
	name, pw, code := r.PostFormValue("user"), r.PostFormValue("password"), r.PostFormValue("code")
	ret := safeReturn(r.PostFormValue("return"))
	back := func(msg string) {
		http.Redirect(w, r, "/login?error="+msg+"&return="+url.QueryEscape(ret), http.StatusSeeOther)
	}
	if len(name) > 64 || len(pw) > 1024 {
		s.auditLoginFail(r, "", methodBreakGlass, "oversized input")
		back("failed")
		return
	}
	if !s.limiter.allowSource(src, now) {
		s.auditLoginFail(r, name, methodBreakGlass, "rate limited: too many attempts from this address")
		back("locked")
		return
	}
	var user *configs.BreakGlassUser
	accounts := s.cfg.Load().BreakGlass
	for i := range accounts {
		if accounts[i].Name == name && !accounts[i].Disabled {
			user = &accounts[i]
		}
	}
	if user != nil && s.limiter.isLocked(name, now) {
		s.auditLoginFail(r, name, methodBreakGlass, "account locked after repeated failures")
		back("locked")
		return
	}
	h := breakglass.Decoy()
	if user != nil {
		if parsed, err := breakglass.ParseHash(user.PasswordHash); err == nil {
			h = parsed
		}
	}
	s.limiter.hashing <- struct{}{}
	pwOK := h.Verify([]byte(pw))
	<-s.limiter.hashing
	if user == nil || !pwOK {
		if user != nil && s.limiter.fail(name, now) {
			s.auditLoginFail(r, name, methodBreakGlass, "wrong password; account now locked")
		} else {
			s.auditLoginFail(r, name, methodBreakGlass, "unknown user or wrong password")
		}
		back("failed")
		return
	}
	t := breakglass.TOTP{Key: user.TOTPSecret(), Skew: 1}
	step, ok := t.Verify(code, now, s.store.totpStep(name))
	if ok {
		ok, _ = s.store.useTOTPStep(name, step)
	}
	if !ok {
		reason := "wrong or reused TOTP code"
		if s.limiter.fail(name, now) {
			reason += "; account now locked"
		}
		s.auditLoginFail(r, name, methodBreakGlass, reason)
		back("failed")
		return
	}
	s.limiter.success(name)
	ss, err := s.startSession(w, r, Session{User: name, Method: methodBreakGlass})
	if err != nil {
		s.log.Error("web session store failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Login is unavailable right now.")
		return
	}
	s.log.Warn("break-glass login", "user", name, "source", src)
	s.auditLogin(r, ss)
	http.Redirect(w, r, ret, http.StatusSeeOther)
}
