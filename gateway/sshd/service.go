package sshd

import (
	"context"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Service is the subset of the service layer (*service.Service) the SSH
// door uses: it resolves callers, runs their commands (each decided and
// audited there) and writes the door's own audit records. Declared here,
// so the door is tested with a fake.
type Service interface {
	Audit(ctx context.Context, r audit.Record) error
	Headroom() error
	Resolve(c service.Caller) (authz.Principal, error)

	Whoami(ctx context.Context, c service.Caller) (service.WhoamiView, error)
	List(ctx context.Context, c service.Caller, selectors []string) ([]service.ListEntry, error)
	Power(ctx context.Context, c service.Caller, sub string, selectors []string, emit func(service.Result)) error
	Info(ctx context.Context, c service.Caller, name string) (service.Result, error)
	Sensors(ctx context.Context, c service.Caller, name string) (service.Result, error)
	SEL(ctx context.Context, c service.Caller, name string, limit int) (service.Result, error)
	Boot(ctx context.Context, c service.Caller, name string) (service.Result, error)
	SetBoot(ctx context.Context, c service.Caller, set service.BootRequest, selectors []string, emit func(service.Result)) error
	Media(ctx context.Context, c service.Caller, name string) (service.Result, error)
	InsertMedia(ctx context.Context, c service.Caller, name, image, slot string) (service.Result, error)
	EjectMedia(ctx context.Context, c service.Caller, name, slot string) (service.Result, error)
	ClearSEL(ctx context.Context, c service.Caller, name string) (service.Result, error)

	AuditSearch(ctx context.Context, c service.Caller, q audit.Query, fn func(audit.Record) error) error
	AuditSearchPage(ctx context.Context, c service.Caller, q audit.Query, fn func(audit.Record) error) (audit.Page, error)
	AuditVerify(ctx context.Context, c service.Caller) (audit.VerifyReport, error)

	Scan(ctx context.Context, c service.Caller, selectors []string, emit func(service.Result)) error
	ScanFix(ctx context.Context, c service.Caller, selectors []string, apply bool, emit func(service.Result)) error
	ScanLast(ctx context.Context, c service.Caller, selectors []string, emit func(service.Result)) error

	IssueCredential(ctx context.Context, c service.Caller, req service.CredentialRequest) (service.CredentialView, string, error)
	ListCredentials(ctx context.Context, c service.Caller) ([]service.CredentialView, error)
	RevokeCredential(ctx context.Context, c service.Caller, user string) (service.CredentialView, error)
	Sessions(ctx context.Context, c service.Caller) ([]service.LiveSession, error)
	Terminate(ctx context.Context, c service.Caller, id, reason string) error
}

var _ Service = (*service.Service)(nil)
