package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/creds"
)

// ErrNoCredentials means the gateway has no credential store installed.
var ErrNoCredentials = &UserError{Msg: "automation credentials are not available on this gateway"}

// SetCredentials installs the automation credential store. The gateway
// opens one store in its data directory at start (gateway.Open) and
// installs it here, so that every door reaches the same store through
// Credentials.
func (s *Service) SetCredentials(st *creds.Store) { s.creds.Store(st) }

// Credentials returns the automation credential store, nil when none is
// installed. Protocol front doors use it for what the store alone answers
// (an RMCP+ credential's sealed secret, Lookup, Permits); logins go
// through CredentialLogin, which audits them and makes the caller.
func (s *Service) Credentials() *creds.Store { return s.creds.Load() }

// CredentialRequest is what a user asks for when issuing a credential.
type CredentialRequest struct {
	Lifetime time.Duration // 0: creds.DefaultLifetime
	Scope    []string      // actions; none: every action the owner's roles allow
	Targets  []string      // BMC names; none: every BMC the owner's roles allow
	RMCP     bool          // also usable over RMCP+ (its password is kept sealed)
}

// CredentialView is a credential as its owner sees it (never the password).
type CredentialView struct {
	User    string    `json:"user"`
	Scope   []string  `json:"scope,omitempty"`
	Targets []string  `json:"targets,omitempty"`
	RMCP    bool      `json:"rmcp,omitempty"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`
	Live    bool      `json:"live"`
}

func (s *Service) credView(c creds.Credential) CredentialView {
	return CredentialView{User: c.User, Scope: c.Scope, Targets: c.Targets, RMCP: c.RMCP,
		Issued: c.Issued, Expires: c.Expires, Revoked: c.Revoked, Live: c.Live(s.now())}
}

// credOwner checks that c may hold credentials: an account of users[] or
// a single sign-on user (not a break-glass account, a gateway certificate
// or a credential itself), still allowed by the current config.
func (s *Service) credOwner(c Caller) (*creds.Store, error) {
	st := s.Credentials()
	if st == nil {
		return nil, ErrNoCredentials
	}
	if _, err := s.State().resolve(c); err != nil {
		return nil, err
	}
	if (c.Identity.Source != SourceUser && c.Identity.Source != SourceSSO) || c.Identity.Credential != "" {
		return nil, &UserError{Msg: "automation credentials are issued to users[] accounts and single sign-on users, not through a credential, certificate or break-glass account"}
	}
	return st, nil
}

// mine reports whether cred belongs to the caller's account.
func mine(c Caller, cred creds.Credential) bool {
	return cred.Owner == c.Name() && cred.Source == string(c.Identity.Source)
}

// IssueCredential issues a credential owned by the caller and returns it
// with its password, which is shown here only. Scope actions must be known
// actions and targets BMCs the caller may see. The issue is audited
// (never the password); if the record cannot be written the credential is
// revoked again and nothing is shown.
func (s *Service) IssueCredential(ctx context.Context, c Caller, req CredentialRequest) (CredentialView, string, error) {
	store, err := s.credOwner(c)
	if err != nil {
		return CredentialView{}, "", err
	}
	for _, a := range req.Scope {
		if !authz.Action(a).Known() {
			return CredentialView{}, "", &UserError{Msg: "unknown action " + quote(a) + " in the scope"}
		}
		if c.Identity.Scope != nil && !slices.Contains(c.Identity.Scope, authz.Action(a)) {
			return CredentialView{}, "", &UserError{Msg: "the scope may name only actions of your API token's scope; " + quote(a) + " is not"}
		}
	}
	if c.Identity.Scope != nil && len(req.Scope) == 0 {
		return CredentialView{}, "", &UserError{Msg: "a credential issued with a scoped API token needs a scope within the token's"}
	}
	for _, t := range req.Targets {
		if _, ok := s.Lookup(c, t); !ok {
			return CredentialView{}, "", fmt.Errorf("%w: %s", ErrUnknownBMC, quote(t))
		}
	}
	cred, password, err := store.Issue(creds.Request{Owner: c.Name(), Source: string(c.Identity.Source),
		Groups: c.Identity.Groups, Scope: req.Scope, Targets: req.Targets,
		Lifetime: req.Lifetime, RMCP: req.RMCP})
	if err != nil {
		return CredentialView{}, "", credError(err)
	}
	r := c.record(audit.CodeCredIssue)
	r.Outcome = audit.OutcomeOK
	r.Fields = credFields(cred)
	if err := s.Audit(ctx, r); err != nil {
		_, _ = store.Revoke(cred.Owner, cred.User)
		return CredentialView{}, "", err
	}
	return s.credView(cred), password, nil
}

// ListCredentials returns the caller's credentials, newest first.
func (s *Service) ListCredentials(_ context.Context, c Caller) ([]CredentialView, error) {
	store, err := s.credOwner(c)
	if err != nil {
		return nil, err
	}
	list := store.Of(c.Name())
	out := make([]CredentialView, 0, len(list))
	for _, cr := range list {
		if mine(c, cr) {
			out = append(out, s.credView(cr))
		}
	}
	slices.SortFunc(out, func(a, b CredentialView) int { return b.Issued.Compare(a.Issued) })
	return out, nil
}

// RevokeCredential revokes one of the caller's credentials, audited; the
// credential's open sessions end at their next request (CredentialCaller
// re-checks it).
func (s *Service) RevokeCredential(ctx context.Context, c Caller, user string) (CredentialView, error) {
	store, err := s.credOwner(c)
	if err != nil {
		return CredentialView{}, err
	}
	r := c.record(audit.CodeCredRevoke)
	if cr, ok := store.Lookup(user); !ok || !mine(c, cr) {
		return CredentialView{}, credError(creds.ErrNotFound)
	}
	cred, err := store.Revoke(c.Name(), user)
	if err != nil {
		return CredentialView{}, credError(err)
	}
	r.Outcome = audit.OutcomeOK
	r.Fields = credFields(cred)
	if err := s.Audit(ctx, r); err != nil {
		return CredentialView{}, err
	}
	return s.credView(cred), nil
}

// CredentialLogin checks user and password at a protocol front door (door:
// e.g. "redfish", "ipmi"; source: the client's address) and returns the
// caller that acts for the credential: its owner, re-resolved under the
// current config at every decision and narrowed by the credential's scope
// and targets. A successful login is audited as credential.use; a refused
// one is not (the door counts refusals, so that unauthenticated clients
// cannot flood the log) and every refusal is the same ErrRefused.
func (s *Service) CredentialLogin(ctx context.Context, door, source, session, user, password string) (Caller, error) {
	store := s.Credentials()
	if store == nil {
		return Caller{}, creds.ErrRefused
	}
	cred, err := store.Verify(user, password)
	if err != nil {
		return Caller{}, creds.ErrRefused
	}
	return s.CredentialSession(ctx, cred, door, source, session)
}

// CredentialSession is CredentialLogin for a door that proved the
// credential itself (RMCP+: the RAKP handshake with Credentials().Secret):
// it checks that the credential is live and its owner may still act,
// records credential.use and returns the caller acting for it.
func (s *Service) CredentialSession(ctx context.Context, cred creds.Credential, door, source, session string) (Caller, error) {
	c := CredentialCaller(cred, door, source, session)
	if !s.CredentialInUse(c) {
		return Caller{}, creds.ErrRefused
	}
	if _, err := s.State().resolve(c); err != nil {
		return Caller{}, creds.ErrRefused
	}
	r := c.record(audit.CodeCredUse)
	r.Outcome = audit.OutcomeOK
	r.Fields = credFields(cred)
	if err := s.Audit(ctx, r); err != nil {
		return Caller{}, err
	}
	return c, nil
}

// CredentialCaller is the caller acting for cred at a front door, without
// any check or record (CredentialSession does both); doors with long-lived
// sessions call CredentialInUse before each request.
func CredentialCaller(cred creds.Credential, door, source, session string) Caller {
	id := Identity{Name: cred.Owner, Source: Source(cred.Source), Groups: cred.Groups, Targets: cred.Targets, Credential: cred.User}
	if id.Source == "" {
		id.Source = SourceUser
	}
	if len(cred.Targets) == 0 {
		id.Targets = nil
	}
	if len(cred.Scope) > 0 {
		id.Scope = make([]authz.Action, len(cred.Scope))
		for i, a := range cred.Scope {
			id.Scope[i] = authz.Action(a)
		}
	}
	return Caller{Identity: id, Door: door, Source: source, Session: session, Auth: "credential " + cred.User}
}

// CredentialInUse reports whether the credential c logged in with may
// still act (not revoked, not expired): doors with long-lived sessions
// check it before each request.
func (s *Service) CredentialInUse(c Caller) bool {
	store := s.Credentials()
	if store == nil || c.Identity.Credential == "" {
		return false
	}
	cred, ok := store.Lookup(c.Identity.Credential)
	return ok && cred.Live(s.now())
}

func credFields(c creds.Credential) map[string]string {
	f := map[string]string{"credential": c.User, "expires": c.Expires.UTC().Format(time.RFC3339)}
	if len(c.Scope) > 0 {
		f["scope"] = strings.Join(c.Scope, ",")
	}
	if len(c.Targets) > 0 {
		f["targets"] = strings.Join(c.Targets, ",")
	}
	if c.RMCP {
		f["rmcp"] = "true"
	}
	return f
}

// credError turns a store error into a message for the user.
func credError(err error) error {
	for _, known := range []error{creds.ErrTooMany, creds.ErrNotFound, creds.ErrLifetime, creds.ErrScope} {
		if errors.Is(err, known) {
			return &UserError{Msg: known.Error(), Err: err}
		}
	}
	return &UserError{Msg: "the credential store could not be written", Err: err}
}
