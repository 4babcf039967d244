package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	_, err := s.AuditSearchPage(ctx, c, q, fn)
	return err
}

// AuditSearchPage is AuditSearch, and says whether more records match than
// the limit let through (see audit.Page).
func (s *Service) AuditSearchPage(ctx context.Context, c Caller, q audit.Query, fn func(audit.Record) error) (audit.Page, error) {
	if err := s.auditAllowed(ctx, c); err != nil {
		return audit.Page{}, err
	}
	r := c.record(audit.CodeAuditSearch)
	r.Action = string(authz.AuditRead)
	r.Outcome = audit.OutcomeOK
	r.Fields = queryFields(q)
	if err := s.Audit(ctx, r); err != nil {
		return audit.Page{}, err
	}
	page, err := s.audit.SearchPage(ctx, q, fn)
	if errors.Is(err, audit.ErrInvalidQuery) {
		return page, &UserError{Msg: strings.TrimPrefix(err.Error(), "audit: "), Err: err}
	}
	if err != nil {
		s.log.Error("audit search failed", "err", err)
		return page, &UserError{Msg: "audit search failed", Err: err}
	}
	return page, nil
}

// MoreHint is the line that tells a user more records match and how to get
// them, with the flags of the SSH and offline `audit search`.
func MoreHint(q audit.Query, p audit.Page) string {
	if !p.More {
		return ""
	}
	cursor := fmt.Sprintf("--after %d", p.Last)
	if q.Newest {
		cursor = fmt.Sprintf("--before %d", p.Last)
	}
	return fmt.Sprintf("%d records shown; more match: repeat the search with %s for the next page (or a larger --limit)", p.Records, cursor)
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
	if q.AfterSeq > 0 {
		f["after"] = fmt.Sprint(q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		f["before"] = fmt.Sprint(q.BeforeSeq)
	}
	return f
}
