package core

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
)

// auditAllowed decides audit.read for the caller and records the decision.
func (s *Service) auditAllowed(ctx context.Context, c Caller) error {
	d, err := s.Decide(ctx, c, authz.AuditRead, authz.Target{})
	if err != nil {
		return err
	}
	if !d.Allowed {
		return &UserError{Msg: d.Reason, Err: ErrDenied}
	}
	return nil
}

// AuditSearch runs a search of the audit log for a caller holding
// audit.read. The search itself is audited before it runs.
func (s *Service) AuditSearch(ctx context.Context, c Caller, q audit.Query, fn func(audit.Record) error) error {
	if err := s.auditAllowed(ctx, c); err != nil {
		return err
	}
	r := c.record(audit.CodeAuditSearch)
	r.Action = string(authz.AuditRead)
	r.Outcome = audit.OutcomeOK
	r.Fields = queryFields(q)
	if err := s.Audit(ctx, r); err != nil {
		return err
	}
	if err := s.audit.Search(ctx, q, fn); err != nil {
		s.log.Error("audit search failed", "err", err)
		return &UserError{Msg: "audit search failed", Err: err}
	}
	return nil
}

// AuditVerify verifies the whole chain for a caller holding audit.read.
func (s *Service) AuditVerify(ctx context.Context, c Caller) (audit.VerifyReport, error) {
	if err := s.auditAllowed(ctx, c); err != nil {
		return audit.VerifyReport{}, err
	}
	rep, err := s.audit.Verify(ctx)
	r := c.record(audit.CodeAuditVerify)
	r.Action = string(authz.AuditRead)
	switch {
	case err != nil:
		r.Outcome, r.Reason = audit.OutcomeError, "verification could not run"
	case rep.OK:
		r.Outcome, r.Reason = audit.OutcomeOK, fmt.Sprintf("%d records, head #%d %s", rep.Records, rep.HeadSeq, rep.HeadHash)
	default:
		r.Outcome, r.Reason = audit.OutcomeFail, fmt.Sprintf("first bad record #%d: %s", rep.FirstBad, rep.Problem)
	}
	if aerr := s.Audit(ctx, r); aerr != nil {
		return rep, aerr
	}
	if err != nil {
		s.log.Error("audit verify failed", "err", err)
		return rep, &UserError{Msg: "audit verification could not run", Err: err}
	}
	return rep, nil
}

func queryFields(q audit.Query) map[string]string {
	f := map[string]string{}
	add := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	add("user", q.Actor)
	add("bmc", q.Target)
	add("action", q.Action)
	add("outcome", q.Outcome)
	add("code", q.Code)
	add("session", q.Session)
	if !q.Since.IsZero() {
		f["since"] = q.Since.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	if !q.Until.IsZero() {
		f["until"] = q.Until.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	if q.Limit > 0 {
		f["limit"] = fmt.Sprint(q.Limit)
	}
	return f
}
