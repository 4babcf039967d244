package web

import (
	"context"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Service is the subset of the service layer (*service.Service) the HTTPS
// door uses: resolving and deciding for callers, the operations behind the
// pages and the API (each decided and audited there), and the door's own
// audit records. Declared here, so the door can be tested with a fake.
type Service interface {
	Audit(ctx context.Context, r audit.Record) error
	AuditQueued(ctx context.Context, r audit.Record) error
	Headroom() error
	Resolve(c service.Caller) (authz.Principal, error)
	Decide(ctx context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error)
	Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC)
	Allowed(c service.Caller, a authz.Action) bool
	Sessions(ctx context.Context, c service.Caller) ([]service.LiveSession, error)
	Terminate(ctx context.Context, c service.Caller, id, reason string) error
	PowerAllowed(c service.Caller, t authz.Target) map[string]bool
	ActionsAllowed(c service.Caller, t authz.Target, acts ...authz.Action) map[authz.Action]bool
	HasMedia(b *service.BMC) bool
	ImageNames() []string
	Lookup(c service.Caller, name string) (*service.BMC, bool)

	Whoami(ctx context.Context, c service.Caller) (service.WhoamiView, error)
	List(ctx context.Context, c service.Caller, selectors []string) ([]service.ListEntry, error)
	Dashboard(ctx context.Context, c service.Caller, pc *service.PowerCache) ([]service.DashEntry, error)
	NewPowerCache(ttl time.Duration) *service.PowerCache
	Power(ctx context.Context, c service.Caller, sub string, selectors []string, emit func(service.Result)) error
	Info(ctx context.Context, c service.Caller, name string) (service.Result, error)
	Sensors(ctx context.Context, c service.Caller, name string) (service.Result, error)
	SEL(ctx context.Context, c service.Caller, name string, limit int) (service.Result, error)
	ClearSEL(ctx context.Context, c service.Caller, name string) (service.Result, error)
	Boot(ctx context.Context, c service.Caller, name string) (service.Result, error)
	SetBoot(ctx context.Context, c service.Caller, set service.BootRequest, selectors []string, emit func(service.Result)) error
	Media(ctx context.Context, c service.Caller, name string) (service.Result, error)
	InsertMedia(ctx context.Context, c service.Caller, name, image, slot string) (service.Result, error)
	EjectMedia(ctx context.Context, c service.Caller, name, slot string) (service.Result, error)

	AuditSearchPage(ctx context.Context, c service.Caller, q audit.Query, fn func(audit.Record) error) (audit.Page, error)
	OwnEvents(ctx context.Context, c service.Caller, limit int) ([]audit.Record, error)

	IssueCredential(ctx context.Context, c service.Caller, req service.CredentialRequest) (service.CredentialView, string, error)
	ListCredentials(ctx context.Context, c service.Caller) ([]service.CredentialView, error)
	RevokeCredential(ctx context.Context, c service.Caller, user string) (service.CredentialView, error)
}

var _ Service = (*service.Service)(nil)
