package offline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/scans"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// ErrFixNotConfirmed means the operator declined the planned fixes.
var ErrFixNotConfirmed = errors.New("fixes not confirmed: nothing was changed")

// FixOffline scans the selected BMCs (at least one selector), shows the
// planned fixes to confirm and, if it agrees, applies them, recording
// every change in the audit log, and scans again. The audit log must be
// writable: offline fixes are refused while a gateway holds it (use
// `ssh gw scan --fix` there).
func FixOffline(ctx context.Context, cfg *configs.Config, selectors []string, confirm func([]*service.ScanFixOutcome) bool, log *slog.Logger) ([]*service.ScanFixOutcome, error) {
	if log == nil {
		log = slog.Default()
	}
	if len(selectors) == 0 {
		return nil, errors.New("name the BMCs to fix (a name, a glob or a label selector)")
	}
	st, err := assemble.State(cfg)
	if err != nil {
		return nil, err
	}
	bmcs, err := scans.Select(st.Inventory, selectors)
	if err != nil {
		return nil, err
	}
	store, err := assemble.OpenAuditLog(cfg, log)
	if err != nil {
		var dirErr *assemble.DataDirError
		switch {
		case errors.As(err, &dirErr):
			return nil, err
		case errors.Is(err, audit.ErrInUse):
			return nil, errors.New("the audit log is held by a running gateway: run `scan --fix` over SSH on that gateway instead")
		}
		return nil, fmt.Errorf("open the audit log (every fix is recorded there): %w", err)
	}
	defer func() { _ = store.Close() }()
	rf := assemble.OfflineRedfish(cfg, log)
	defer rf.Close()
	x, err := assemble.Scans(cfg, log, rf)
	if err != nil {
		return nil, err
	}
	plans, err := eachBMC(ctx, x.Concurrency, bmcs, func(ctx context.Context, b *service.BMC) (*service.ScanFixOutcome, error) {
		return service.FixBMC(ctx, x, b, false, nil)
	})
	if err != nil {
		return plans, err
	}
	n := 0
	var todo []*service.BMC
	for i, p := range plans {
		if len(p.Planned) > 0 {
			n += len(p.Planned)
			todo = append(todo, bmcs[i])
		}
	}
	if n == 0 {
		return plans, nil
	}
	if !confirm(plans) {
		return plans, ErrFixNotConfirmed
	}
	actor := offlineActor()
	return eachBMC(ctx, 1, todo, func(ctx context.Context, b *service.BMC) (*service.ScanFixOutcome, error) {
		return service.FixBMC(ctx, x, b, true, func(fr scan.FixResult) error {
			r := audit.Record{Code: audit.CodeScanFix, Actor: actor, Door: "cli", Target: b.Name,
				Action: string(authz.ScanFix), Outcome: audit.OutcomeOK, Fields: map[string]string{"finding": fr.ID, "change": fr.Action}}
			if !fr.OK {
				r.Outcome, r.Reason = audit.OutcomeError, fr.Message
			}
			_, err := store.Append(context.WithoutCancel(ctx), r)
			return err
		})
	})
}

// eachBMC runs fn for every BMC, at most limit at once, and returns the
// results in order; the errors are returned with them. Once ctx is done no
// further BMC is started, and ctx's error is among the errors.
func eachBMC(ctx context.Context, limit int, bmcs []*service.BMC, fn func(context.Context, *service.BMC) (*service.ScanFixOutcome, error)) ([]*service.ScanFixOutcome, error) {
	type result struct {
		o       *service.ScanFixOutcome
		err     error
		skipped bool // ctx was done before fn started
	}
	var res []*service.ScanFixOutcome
	var errs []error
	skipped := false
	service.Fanout(ctx, len(bmcs), max(limit, 1), func(ctx context.Context, i int) result {
		if ctx.Err() != nil {
			return result{skipped: true}
		}
		o, err := fn(ctx, bmcs[i])
		return result{o: o, err: err}
	}, func(_ int, r result) {
		if r.o != nil {
			res = append(res, r.o)
		}
		errs = append(errs, r.err)
		skipped = skipped || r.skipped
	})
	if skipped {
		errs = append(errs, ctx.Err())
	}
	return res, errors.Join(errs...)
}
