package service

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/bmcgate/bmcgate/authz"
)

// Source is where an identity's account is defined. It tells which part of
// the current config gives the identity its roles.
type Source string

// Identity sources.
const (
	// SourceUser is an account of users[]: SSH public keys and certificates.
	SourceUser Source = "user"
	// SourceSSO is a single sign-on user, whose roles are the provider
	// groups mapped through web.oidc.group_roles and the user's own
	// web.oidc.user_roles.
	SourceSSO Source = "sso"
	// SourceBreakGlass is an account of web.break_glass[].
	SourceBreakGlass Source = "break-glass"
	// SourceCert is a single sign-on user logged in over SSH with a
	// certificate of the gateway's own CA: their roles are those of the
	// certificate that the current config still grants them (their
	// groups, from the web login it came from, and user_roles).
	SourceCert Source = "sso-cert"
)

// Identity is who a caller is, fixed when they authenticate: the account
// name, where the account is defined, what the identity provider said at
// login and what the credential is limited to. It carries no roles: service
// derives the caller's principal from the current config at every decision,
// so a reload that removes a role or disables an account applies to the
// next action of every open session.
type Identity struct {
	Name   string
	Source Source
	// Groups are a single sign-on user's provider groups, from the last
	// login, session refresh or bearer token.
	Groups []string
	// Scope narrows what the identity may do to these actions (a personal
	// API token); nil means no narrowing.
	Scope []authz.Action
	// Targets narrows which BMCs the identity may act on (an automation
	// credential's targets); nil means no narrowing.
	Targets []string
	// Credential is the user name of the automation credential the caller
	// logged in with, acting as its owner Name; empty otherwise.
	Credential string
	// CertSerial and CertRoles are a gateway certificate's serial and the
	// roles it carries (SourceCert).
	CertSerial uint64
	CertRoles  []string
}

// CertStanding is what the service layer asks about a gateway-issued SSH
// certificate at every decision: the provider groups of the web login it
// came from, or why it may no longer act (revoked, login ended).
type CertStanding interface {
	Standing(serial uint64) (groups []string, why string)
}

// Account is an account the config defines, with its roles now.
type Account struct {
	Name     string
	Roles    []string
	Disabled bool
}

// Accounts resolves identities to principals under one config: the users
// (users[]), the break-glass accounts (web.break_glass[]) and the mapping of
// provider groups and user names to roles (web.oidc.group_roles and
// user_roles). It is immutable; a reload builds a new one as part of the
// State.
type Accounts struct {
	users      map[string]Account
	breakGlass map[string]Account
	groupRoles map[string][]string
	userRoles  map[string][]string
}

// NewAccounts builds the account directory of one config.
func NewAccounts(users, breakGlass []Account, groupRoles map[string][]string) *Accounts {
	a := &Accounts{users: make(map[string]Account, len(users)), breakGlass: make(map[string]Account, len(breakGlass)),
		groupRoles: make(map[string][]string, len(groupRoles))}
	for _, u := range users {
		a.users[u.Name] = u
	}
	for _, u := range breakGlass {
		a.breakGlass[u.Name] = u
	}
	for g, r := range groupRoles {
		a.groupRoles[g] = slices.Clone(r)
	}
	return a
}

// WithUserRoles returns a copy of a whose single sign-on users also get the
// roles userRoles maps their provider user name to (web.oidc.user_roles).
func (a *Accounts) WithUserRoles(userRoles map[string][]string) *Accounts {
	cp := *a
	cp.userRoles = make(map[string][]string, len(userRoles))
	for u, r := range userRoles {
		cp.userRoles[u] = slices.Clone(r)
	}
	return &cp
}

// ErrRevoked marks an identity that the current config no longer lets act:
// its account was removed or disabled, or its provider groups map to no
// role. Front doors end the identity's sessions.
var ErrRevoked = errors.New("identity revoked")

// ErrLocked marks an identity refused by a lock (bmcgate lock) of the user
// or of one of their roles; it is an ErrRevoked too.
var ErrLocked = fmt.Errorf("%w: locked", ErrRevoked)

// Locks answers whether a user with these roles is locked, and why.
type Locks interface {
	Locked(user string, roles []string) string
}

// revoked is the error for an identity that may no longer act; why reads
// well after "denied: " and "session ended: ".
func revoked(why string) error { return &UserError{Msg: why, Err: ErrRevoked} }

// Principal resolves id under the accounts for a caller at door. It returns
// an error wrapping ErrRevoked, whose message says why, when the account is
// gone or disabled or a single sign-on user's groups map to no role.
func (a *Accounts) Principal(id Identity, door string) (authz.Principal, error) {
	if a == nil {
		return authz.Principal{}, revoked("no accounts are configured")
	}
	pr := authz.Principal{Name: id.Name, Door: door}
	switch id.Source {
	case SourceUser:
		u, ok := a.users[id.Name]
		switch {
		case !ok:
			return authz.Principal{}, revoked("the account was removed from the gateway config")
		case u.Disabled:
			return authz.Principal{}, revoked("the account is disabled in the gateway config")
		}
		pr.Roles = u.Roles
	case SourceBreakGlass:
		u, ok := a.breakGlass[id.Name]
		switch {
		case !ok:
			return authz.Principal{}, revoked("the break-glass account was removed from the gateway config")
		case u.Disabled:
			return authz.Principal{}, revoked("the break-glass account is disabled in the gateway config")
		}
		pr.Roles = u.Roles
	case SourceSSO:
		pr.Roles = a.SSORoles(id.Name, id.Groups)
		if len(pr.Roles) == 0 {
			return authz.Principal{}, revoked("the user's groups map to no bmcgate role in the gateway config, and user_roles names none for the user")
		}
	default:
		return authz.Principal{}, revoked("unknown identity source")
	}
	return pr, nil
}

// GroupRoles maps provider groups to bmcgate roles through group_roles:
// sorted, without duplicates.
func (a *Accounts) GroupRoles(groups []string) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, g := range groups {
		for _, r := range a.groupRoles[g] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// SSORoles are the roles of a single sign-on user: those their groups map
// to through group_roles and those their name maps to through user_roles,
// sorted, without duplicates.
func (a *Accounts) SSORoles(user string, groups []string) []string {
	out := a.GroupRoles(groups)
	if a == nil || len(a.userRoles[user]) == 0 {
		return out
	}
	for _, r := range a.userRoles[user] {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// principal is an identity resolved under one state: its principal there
// and the scope its credential is narrowed to.
type principal struct {
	authz.Principal
	scope   []authz.Action
	targets []string
}

// decide asks pol whether p may do a on t, within p's scope.
func (p principal) decide(pol *authz.Policy, a authz.Action, t authz.Target) authz.Decision {
	if p.scope != nil && !slices.Contains(p.scope, a) {
		d := authz.Decision{Action: a, Principal: p.Name, Target: t.Name}
		d.Reason = "denied: the credential's scope does not include " + string(a)
		return d
	}
	if p.targets != nil && !slices.Contains(p.targets, t.Name) {
		d := authz.Decision{Action: a, Principal: p.Name, Target: t.Name}
		d.Reason = "denied: the credential is not for " + t.Name
		return d
	}
	return pol.Decide(p.Principal, a, t)
}

// allowed is decide's answer alone.
func (p principal) allowed(pol *authz.Policy, a authz.Action, t authz.Target) bool {
	return p.decide(pol, a, t).Allowed
}
