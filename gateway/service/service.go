package service

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/creds"
)

// AuditLog is the subset of the audit store that service uses.
type AuditLog interface {
	Append(ctx context.Context, r audit.Record) (audit.Record, error)
	Search(ctx context.Context, q audit.Query, fn func(audit.Record) error) error
	SearchPage(ctx context.Context, q audit.Query, fn func(audit.Record) error) (audit.Page, error)
	Verify(ctx context.Context) (audit.VerifyReport, error)
}

// Caller is an authenticated user at a front door: who (the identity, fixed
// at login) and through which session. What the caller may do is not part
// of it: service resolves the identity under the current state at every
// decision.
type Caller struct {
	Identity Identity
	Door     string // "ssh", "web", "api"
	Source   string // remote address
	Session  string // front-door session id
	Auth     string // how the caller authenticated, e.g. "publickey SHA256:…"
}

// Name is the caller's account name, as audit records show it.
func (c Caller) Name() string { return c.Identity.Name }

// record returns an audit record pre-filled with the caller's identity.
func (c Caller) record(code string) audit.Record {
	return audit.Record{
		Code:    code,
		Actor:   c.Identity.Name,
		Door:    c.Door,
		Source:  c.Source,
		Session: c.Session,
	}
}

// Limits bound the work one request may cause.
type Limits struct {
	FanoutConcurrency int           // BMC calls in flight per request
	MaxTargets        int           // BMCs one request may address
	CommandTimeout    time.Duration // whole request
}

func (l Limits) withDefaults() Limits {
	if l.FanoutConcurrency <= 0 {
		l.FanoutConcurrency = 32
	}
	if l.MaxTargets <= 0 {
		l.MaxTargets = 1000
	}
	if l.CommandTimeout <= 0 {
		l.CommandTimeout = 60 * time.Second
	}
	return l
}

// State is what a config reload replaces as one unit.
type State struct {
	Policy    *authz.Policy
	Inventory *Inventory
	Accounts  *Accounts // who may act, with which roles
	Limits    Limits
	// CertsOn is whether certificates of the gateway's own CA may act
	// (ssh.issue_certificates).
	CertsOn bool

	certs CertStanding // set by Swap from SetCerts
	locks Locks        // set by Swap from SetLocks
}

// Service is the front doors' shared entry point. It is safe for concurrent use.
type Service struct {
	state  atomic.Pointer[State]
	broker Transport // the transport of BMCs without their own
	audit  AuditLog
	log    *slog.Logger
	now    func() time.Time
	scans  atomic.Pointer[Scans] // posture scan (scan.go); nil until installed
	// redfish is the Redfish broker (transport.go); nil until installed.
	redfish atomic.Pointer[RedfishBroker]
	// images is the image listener (media.go); nil without an image library.
	images atomic.Pointer[ImageServer]
	// diskLow is whether the last Headroom found the audit log's disk low
	// (headroom.go), so that the log says so once per change.
	diskLow atomic.Bool
	// certs answers for gateway-issued SSH certificates (SetCerts).
	certs atomic.Pointer[certsHolder]
	// creds is the automation credential store (credentials.go); nil until installed.
	creds atomic.Pointer[creds.Store]
	// locks is the list of locked users and roles (SetLocks).
	locks atomic.Pointer[locksHolder]
	// doors are the front doors whose live sessions moderators see
	// (sessions.go).
	doors atomic.Pointer[[]SessionDoor]
}

type certsHolder struct{ c CertStanding }

type locksHolder struct{ l Locks }

// SetLocks installs the list of locked users and roles; states swapped in
// from now on (and the current one) use it.
func (s *Service) SetLocks(l Locks) {
	s.locks.Store(&locksHolder{l})
	s.Swap(s.State())
}

// SetCerts installs what answers for the gateway's own SSH certificates;
// states swapped in from now on (and the current one) use it.
func (s *Service) SetCerts(c CertStanding) {
	s.certs.Store(&certsHolder{c})
	s.Swap(s.State())
}

// New builds a service that reaches BMCs through t (unless a BMC names its
// own transport) and audits to log.
func New(st *State, t Transport, log AuditLog, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{broker: t, audit: log, log: logger, now: time.Now}
	s.Swap(st)
	return s
}

// Swap installs a new state (config reload). Requests already running keep
// the state they started with.
func (s *Service) Swap(st *State) {
	cp := *st
	cp.Limits = cp.Limits.withDefaults()
	if h := s.certs.Load(); h != nil {
		cp.certs = h.c
	}
	if h := s.locks.Load(); h != nil {
		cp.locks = h.l
	}
	s.state.Store(&cp)
}

// State returns the current state.
func (s *Service) State() *State { return s.state.Load() }

// Audit appends a record on behalf of a front door. It is the only way front
// doors write to the audit log, so every write shares the same failure
// handling: an error means the caller must not proceed.
func (s *Service) Audit(ctx context.Context, r audit.Record) error {
	if _, err := s.audit.Append(ctx, r); err != nil {
		s.log.Error("audit append failed", "code", r.Code, "actor", r.Actor, "err", err)
		return ErrAuditUnavailable
	}
	return nil
}

// queuedLog is the part of an audit log that can take a record without
// waiting for its commit (audit.Store.Enqueue).
type queuedLog interface {
	Enqueue(ctx context.Context, r audit.Record) error
}

// AuditQueued records r off the caller's path: it returns once the record
// is queued for the next group commit, not after the commit. Only for
// records of actions already decided and answered, whose loss with the
// process (kill -9, power loss in the few milliseconds before the commit)
// is acceptable: reads of a BMC web UI the session was allowed at entry.
// Decisions, writes and refusals use Audit. A log that cannot queue
// records is written to with Append.
func (s *Service) AuditQueued(ctx context.Context, r audit.Record) error {
	q, ok := s.audit.(queuedLog)
	if !ok {
		return s.Audit(ctx, r)
	}
	if err := q.Enqueue(ctx, r); err != nil {
		s.log.Error("audit enqueue failed", "code", r.Code, "actor", r.Actor, "err", err)
		return ErrAuditUnavailable
	}
	return nil
}

// Resolve returns the caller's principal under the current state, without
// recording anything: for front doors checking whether a live session may
// go on. The error wraps ErrRevoked and its Message says why when the
// current config no longer lets the caller act.
func (s *Service) Resolve(c Caller) (authz.Principal, error) {
	p, err := s.State().resolve(c)
	return p.Principal, err
}

// resolve resolves the caller under st.
func (st *State) resolve(c Caller) (principal, error) {
	var pr authz.Principal
	var err error
	if c.Identity.Source == SourceCert {
		pr, err = st.certPrincipal(c.Identity, c.Door)
	} else {
		pr, err = st.Accounts.Principal(c.Identity, c.Door)
	}
	if err != nil {
		return principal{}, err
	}
	if st.locks != nil {
		if why := st.locks.Locked(pr.Name, pr.Roles); why != "" {
			return principal{}, &UserError{Msg: why, Err: ErrLocked}
		}
	}
	return principal{Principal: pr, scope: c.Identity.Scope, targets: c.Identity.Targets}, nil
}

// certPrincipal resolves a user logged in with a gateway certificate: the
// certificate must still stand (not revoked, its web login alive), and of
// its roles only those the current config grants the user through their
// groups (as the web login last saw them) or user_roles are used.
func (st *State) certPrincipal(id Identity, door string) (authz.Principal, error) {
	if !st.CertsOn || st.certs == nil {
		return authz.Principal{}, revoked("the gateway no longer accepts its own SSH certificates (ssh.issue_certificates is off)")
	}
	groups, why := st.certs.Standing(id.CertSerial)
	if why != "" {
		return authz.Principal{}, revoked(why)
	}
	granted := st.Accounts.SSORoles(id.Name, groups)
	var roles []string
	for _, r := range id.CertRoles {
		if slices.Contains(granted, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return authz.Principal{}, revoked("the gateway config no longer grants the user any role of the certificate")
	}
	return authz.Principal{Name: id.Name, Door: door, Roles: roles}, nil
}

// principal resolves the caller under st for a request for a on target. A
// caller the config no longer lets act is denied, and the denial recorded,
// like any other: the error is for the user.
func (s *Service) principal(ctx context.Context, st *State, c Caller, a authz.Action, target string) (principal, error) {
	p, err := st.resolve(c)
	if err == nil {
		return p, nil
	}
	r := c.record(audit.CodeDecision)
	r.Action, r.Target = string(a), target
	r.Outcome, r.Reason = audit.OutcomeDeny, "denied: "+Message(err)
	if aerr := s.Audit(ctx, r); aerr != nil {
		return principal{}, aerr
	}
	return principal{}, err
}

// Decide asks the policy and records the decision (fail closed: if the
// decision cannot be recorded, the answer is deny). The error is set when
// the decision could not be recorded, or when the caller may no longer act
// at all (ErrRevoked).
func (s *Service) Decide(ctx context.Context, c Caller, a authz.Action, t authz.Target) (authz.Decision, error) {
	return s.decide(ctx, s.State(), c, a, t)
}

func (s *Service) decide(ctx context.Context, st *State, c Caller, a authz.Action, t authz.Target) (authz.Decision, error) {
	p, err := s.principal(ctx, st, c, a, t.Name)
	if err != nil {
		d := authz.Decision{Action: a, Principal: c.Name(), Target: t.Name, Reason: "denied: " + Message(err)}
		if errors.Is(err, ErrAuditUnavailable) {
			d.Reason = "denied: the audit log is unavailable"
		}
		return d, err
	}
	return s.decideAs(ctx, st, c, p, a, t)
}

// decideAs is decide for a caller already resolved under st.
func (s *Service) decideAs(ctx context.Context, st *State, c Caller, p principal, a authz.Action, t authz.Target) (authz.Decision, error) {
	d := p.decide(st.Policy, a, t)
	r := c.record(audit.CodeDecision)
	r.Target = t.Name
	r.Action = string(a)
	r.Reason = d.Reason
	r.Outcome = audit.OutcomeDeny
	if d.Allowed {
		r.Outcome = audit.OutcomeAllow
	}
	if err := s.Audit(ctx, r); err != nil {
		d.Allowed = false
		d.Reason = "denied: the audit log is unavailable"
		return d, err
	}
	return d, nil
}
