package service

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// AuditQueued queues on a log that can (the audit store: the record is in
// the log by the next commit, here the Append after it) and appends on one
// that cannot; a refusal of the log is ErrAuditUnavailable either way.
func TestAuditQueued(t *testing.T) {
	ctx := context.Background()
	svc, _, fa := newTestService(t)
	r := audit.Record{Code: audit.CodeWebUIRequest, Actor: "u-admin", Action: "web.access", Outcome: audit.OutcomeOK}
	if err := svc.AuditQueued(ctx, r); err != nil || len(fa.recs) != 1 {
		t.Fatalf("AuditQueued on a log without a queue: %v, %d records", err, len(fa.recs))
	}
	fa.failing.Store(true)
	if err := svc.AuditQueued(ctx, r); !errors.Is(err, ErrAuditUnavailable) {
		t.Fatalf("AuditQueued on a failing log = %v", err)
	}

	st, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"), audit.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	svc = New(svc.State(), nil, st, nil)
	for range 10 {
		if err := svc.AuditQueued(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Audit(ctx, audit.Record{Code: audit.CodeDecision, Actor: "u-admin"}); err != nil {
		t.Fatal(err)
	}
	if seq, _ := st.Head(); seq != 11 {
		t.Fatalf("head after 10 queued records and one append: #%d", seq)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := svc.AuditQueued(ctx, r); !errors.Is(err, ErrAuditUnavailable) {
		t.Fatalf("AuditQueued on a closed log = %v", err)
	}
}
