package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

// hashWait bounds how long a login waits for a free argon2id slot; past
// it the answer is "try again shortly".
const hashWait = 10 * time.Second

// Answers of the break-glass form, the same for every account name, known
// or not: "failed" after a check, "wait" when a throttle held the attempt
// back (throttle.go).
const (
	loginFailed = "failed"
	loginWait   = "wait"
)

// breakGlassLogin checks a local account's password (argon2id) and TOTP
// code. Every attempt is throttled (throttle.go) and audited, marked
// breakglass and aggregated per source and reason. An unknown or disabled
// account costs the same hashing as a known one, against a decoy of the
// same parameters, and gets the same answers: a redirect to the login page
// with "failed" or "wait".
func (s *Server) breakGlassLogin(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOrigin(r); err != nil {
		s.refuseCSRF(w, r, nil, err)
		return
	}
	now := s.now()
	name, pw, code := r.PostFormValue("user"), r.PostFormValue("password"), r.PostFormValue("code")
	ret := safeReturn(r.PostFormValue("return"))
	back := func(msg string) {
		http.Redirect(w, r, "/login?error="+msg+"&return="+url.QueryEscape(ret), http.StatusSeeOther)
	}
	if len(name) > 64 || len(pw) > 1024 || len(code) > 16 {
		s.auditLoginFail(r, "", methodBreakGlass, "oversized input")
		back(loginFailed)
		return
	}
	name = strings.ToLower(strings.TrimSpace(name))
	a := loginAttempt{source: refusals.SourceKey(remoteIP(r)), account: name, device: s.deviceFor(r, name, now)}
	if why := s.limiter.admit(a, now); why != "" {
		s.auditLoginFail(r, name, methodBreakGlass, "throttled: "+why)
		back(loginWait)
		return
	}
	user, h := s.breakGlassAccount(name)
	release, ok := s.acquireHashing(r.Context(), a.device != "")
	if !ok {
		s.auditLoginFail(r, name, methodBreakGlass, "throttled: too many logins being checked at once")
		back(loginWait)
		return
	}
	pwOK := s.verify(h, []byte(pw))
	release()
	if user == nil || !pwOK {
		s.limiter.fail(a, now)
		s.auditLoginFail(r, name, methodBreakGlass, "unknown user or wrong password")
		back(loginFailed)
		return
	}
	t := breakglass.TOTP{Key: user.TOTPSecret(), Skew: 1}
	step, ok := t.Verify(code, now, s.store.totpStep(user.Name))
	if ok {
		ok, _ = s.store.useTOTPStep(user.Name, step)
	}
	if !ok {
		s.limiter.fail(a, now)
		s.auditLoginFail(r, name, methodBreakGlass, "wrong or reused TOTP code")
		back(loginFailed)
		return
	}
	s.limiter.success(a)
	ss, err := s.startSession(w, r, Session{User: user.Name, Method: methodBreakGlass})
	if err != nil {
		s.loginNotStarted(w, r, user.Name, methodBreakGlass, err)
		return
	}
	s.setDevice(w, user.Name, a.device, now)
	s.log.Warn("break-glass login", "user", user.Name, "source", remoteIP(r))
	s.auditLogin(r, ss)
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// breakGlassAccount returns the enabled account called name and its hash,
// or nil and a decoy that costs what the configured accounts' hashes cost.
func (s *Server) breakGlassAccount(name string) (*configs.BreakGlassUser, breakglass.Hash) {
	accounts := s.cfg.Load().BreakGlass
	decoy, haveDecoy := breakglass.Hash{}, false
	for i := range accounts {
		h, err := breakglass.ParseHash(accounts[i].PasswordHash)
		if err != nil {
			continue
		}
		if !haveDecoy {
			decoy, haveDecoy = breakglass.DecoyLike(h), true
		}
		if accounts[i].Name == name && !accounts[i].Disabled {
			return &accounts[i], h
		}
	}
	if !haveDecoy {
		decoy = breakglass.Decoy()
	}
	return nil, decoy
}

// acquireHashing waits for one of the bounded argon2id slots (one more is
// kept for browsers the account knows), at most hashWait. It returns the
// slot's release and whether it got one.
func (s *Server) acquireHashing(ctx context.Context, known bool) (func(), bool) {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	reserve := s.hashingKnown
	if !known {
		reserve = nil // a nil channel is never ready: no reserved slot
	}
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, true
	case reserve <- struct{}{}:
		return func() { <-s.hashingKnown }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}
