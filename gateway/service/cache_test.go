package service

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

func TestPowerCacheRefreshesOncePerTTL(t *testing.T) {
	svc, fb, _ := newTestService(t)
	fb.power["node02"] = "on"
	fb.fail["node05"] = &ipmi.Error{Msg: "no answer", Err: errors.New("timeout")}
	pc := svc.NewPowerCache(time.Hour)
	ctx := context.Background()
	snap := pc.Snapshot(ctx, 5*time.Second) // first view waits for the fill
	if len(snap) != 6 || snap["node02"].State != "on" || snap["node01"].State != "off" {
		t.Fatalf("snapshot %+v", snap)
	}
	if e := snap["node05"]; e.Health != "unreachable" || e.Error != "no answer" {
		t.Fatalf("unreachable entry %+v", e)
	}
	calls := fb.calls.Load()
	for range 10 {
		pc.Snapshot(ctx, 0)
	}
	if got := fb.calls.Load(); got != calls {
		t.Fatalf("views within the TTL called the broker %d more times", got-calls)
	}
	pc.Invalidate()
	pc.Snapshot(ctx, 0) // starts the refresh in the background
	pc.mu.Lock()
	done := pc.refreshing // nil when it has ended already
	pc.mu.Unlock()
	if done != nil {
		<-done
	}
	if fb.calls.Load() != calls+6 {
		t.Fatalf("invalidate did not refresh: %d calls", fb.calls.Load()-calls)
	}
}

func TestDashboardFollowsPolicy(t *testing.T) {
	svc, fb, fa := newTestService(t)
	fb.power["node01"] = "on"
	pc := svc.NewPowerCache(time.Hour)
	pc.Snapshot(context.Background(), 5*time.Second)
	entries, err := svc.Dashboard(context.Background(), caller("r1ops"), pc)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 {
		t.Fatalf("r1ops lists everything: got %d", len(entries))
	}
	byName := map[string]DashEntry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	if e := byName["node01"]; e.Power == nil || e.Power.State != "on" || !slices.Contains(e.Ops, "cycle") {
		t.Errorf("node01 %+v", e)
	}
	if e := byName["node03"]; slices.Contains(e.Ops, "off") || !slices.Contains(e.Ops, "on") {
		t.Errorf("node03 ops %v (power.off is denied there)", e.Ops)
	}
	if e := byName["node04"]; e.Power != nil || len(e.Ops) != 0 {
		t.Errorf("node04 (rack r2) shows power or ops: %+v", e)
	}
	blind, err := svc.Dashboard(context.Background(), caller("blind"), pc)
	if err != nil || len(blind) != 0 {
		t.Fatalf("blind sees %d BMCs (%v)", len(blind), err)
	}
	n := 0
	fa.mu.Lock()
	recs := append([]audit.Record(nil), fa.recs...)
	fa.mu.Unlock()
	for _, r := range recs {
		if r.Action == string(authz.BMCList) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d listing records for two dashboard views", n)
	}
}
