package scans

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// Inventory scans bmcs with the configured concurrency and returns the
// reports in inventory order. Each BMC is scanned by one goroutine, so it
// never sees more than one session of this scan at a time. Once ctx is
// done no further BMC is started: the reports of the BMCs scanned so far
// are returned.
func Inventory(ctx context.Context, x *service.Scans, bmcs []*service.BMC) []*scan.Report {
	var out []*scan.Report
	service.Fanout(ctx, len(bmcs), max(x.Concurrency, 1), func(ctx context.Context, i int) *scan.Report {
		if ctx.Err() != nil {
			return nil // cut short: not started
		}
		return service.ScanBMC(ctx, x.Scanner, bmcs[i])
	}, func(_ int, r *scan.Report) {
		if r != nil {
			out = append(out, r)
		}
	})
	return out
}

// Select returns the inventory's BMCs matching any selector, in name
// order; all of them when there are no selectors.
func Select(inv *service.Inventory, selectors []string) ([]*service.BMC, error) {
	if len(selectors) == 0 {
		return inv.All(), nil
	}
	var sels []authz.Selector
	for _, s := range selectors {
		sel, err := authz.ParseSelector(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		sels = append(sels, sel)
	}
	var out []*service.BMC
	for _, b := range inv.All() {
		for _, sel := range sels {
			if sel.Match(b.Target()) {
				out = append(out, b)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no BMC matches %v", selectors)
	}
	return out, nil
}
