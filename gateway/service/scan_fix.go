package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// ScanFixOutcome is the Value of a ScanFix result: the scan before, the
// fixes planned or applied, and the scan after (when applied).
type ScanFixOutcome struct {
	Before  *scan.Report     `json:"before"`
	Planned []string         `json:"planned"` // finding IDs --fix would remedy
	Fixes   []scan.FixResult `json:"fixes,omitempty"`
	After   *scan.Report     `json:"after,omitempty"`
	// Refused says why no fix was attempted (for example no Administrator
	// privilege), in plain words.
	Refused string `json:"refused,omitempty"`
}

// String summarizes the outcome for the audit log.
func (o *ScanFixOutcome) String() string {
	if o.After == nil {
		if o.Refused != "" {
			return "fixes refused: " + o.Refused
		}
		return "planned: " + strings.Join(o.Planned, ",")
	}
	ok := 0
	for _, f := range o.Fixes {
		if f.OK {
			ok++
		}
	}
	return fmt.Sprintf("%d of %d fixes applied; after: %s", ok, len(o.Fixes), o.After)
}

// ScanFix scans every selected BMC (each needs scan.fix) and, when apply
// is true, applies the fixable remedies, audits each change (scan.fix) and
// scans again to show the result. With apply false it only plans: that is
// the confirmation step of the front doors.
func (s *Service) ScanFix(ctx context.Context, c Caller, selectors []string, apply bool, emit func(Result)) error {
	x, err := s.scansOrErr()
	if err != nil {
		return err
	}
	req := Request{Caller: c, Action: authz.ScanFix, Selectors: selectors}
	return s.runScan(ctx, req, x, func(ctx context.Context, b *BMC) (any, error) {
		return FixBMC(ctx, x, b, apply, func(fr scan.FixResult) error {
			r := c.record(audit.CodeScanFix)
			r.Target, r.Action = b.Name, string(authz.ScanFix)
			r.Outcome = audit.OutcomeOK
			if !fr.OK {
				r.Outcome, r.Reason = audit.OutcomeError, fr.Message
			}
			r.Fields = map[string]string{"finding": fr.ID, "change": fr.Action}
			return s.Audit(context.WithoutCancel(ctx), r)
		})
	}, emit)
}

// FixBMC is one BMC's scan-fix-rescan with each fix passed to record
// (the audit) as it happens. A failure to record stops further fixes.
func FixBMC(ctx context.Context, x *Scans, b *BMC, apply bool, record func(scan.FixResult) error) (*ScanFixOutcome, error) {
	before := ScanBMC(ctx, x.Scanner, b)
	if err := x.Store.Save(before); err != nil {
		return nil, &UserError{Msg: "the scan report could not be stored", Err: err}
	}
	o := &ScanFixOutcome{Before: before, Planned: scan.Fixable(before)}
	if !apply || len(o.Planned) == 0 {
		return o, nil
	}
	var save scan.SecretSaver
	if x.Secrets != nil {
		save = x.Secrets(b.Name)
	}
	fixes, err := x.Scanner.Fix(ctx, b.Endpoint, before, save)
	if errors.Is(err, scan.ErrNotAdmin) {
		o.Refused = scan.ErrNotAdmin.Error()
		return o, nil
	}
	if err != nil {
		return o, &UserError{Msg: "the fixes could not start: " + Message(err), Err: err}
	}
	for _, f := range fixes {
		o.Fixes = append(o.Fixes, f)
		if err := record(f); err != nil {
			return o, err
		}
	}
	o.After = ScanBMC(ctx, x.Scanner, b)
	if err := x.Store.Save(o.After); err != nil {
		return o, &UserError{Msg: "fixed, but the new scan report could not be stored", Err: err}
	}
	return o, nil
}
