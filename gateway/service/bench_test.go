package service

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// benchState is a large config: 1,000 users with 3 of 100 roles each, 5 of
// them disabled; each role allows power.* on one rack and bmc.list
// everywhere, and denies power.off on one BMC; 10,000 BMCs over 100 racks.
func benchState(b *testing.B) *State {
	b.Helper()
	sel := func(s string) authz.Selector {
		x, err := authz.ParseSelector(s)
		if err != nil {
			b.Fatal(err)
		}
		return x
	}
	act := func(s string) authz.ActionPattern {
		x, err := authz.ParseActionPattern(s)
		if err != nil {
			b.Fatal(err)
		}
		return x
	}
	var roles []authz.Role
	for i := range 100 {
		roles = append(roles, authz.Role{Name: fmt.Sprintf("r%03d", i), Rules: []authz.Rule{
			{Effect: authz.Allow, Actions: []authz.ActionPattern{act("power.*"), act("bmc.info")}, BMCs: []authz.Selector{sel(fmt.Sprintf("rack=k%03d", i))}},
			{Effect: authz.Allow, Actions: []authz.ActionPattern{act("bmc.list")}, BMCs: []authz.Selector{sel("*")}},
			{Effect: authz.Deny, Actions: []authz.ActionPattern{act("power.off")}, BMCs: []authz.Selector{sel(fmt.Sprintf("n%05d", i*100))}},
		}})
	}
	pol, err := authz.NewPolicy(roles)
	if err != nil {
		b.Fatal(err)
	}
	var users []Account
	for i := range 1000 {
		users = append(users, Account{Name: fmt.Sprintf("u%04d", i), Disabled: i%200 == 0,
			Roles: []string{roles[i%100].Name, roles[(i+1)%100].Name, roles[(i+7)%100].Name}})
	}
	var bmcs []*BMC
	for i := range 10000 {
		name := fmt.Sprintf("n%05d", i)
		bmcs = append(bmcs, &BMC{Name: name, Labels: map[string]string{"rack": fmt.Sprintf("k%03d", i/100)},
			Endpoint: ipmi.Endpoint{Name: name, Host: "127.0.0.1", Port: 623}})
	}
	inv, err := NewInventory(bmcs)
	if err != nil {
		b.Fatal(err)
	}
	return &State{Policy: pol, Inventory: inv, Accounts: NewAccounts(users, nil, nil)}
}

// BenchmarkDecisionLiveCaller is the per-command decision of an open
// session: resolve the caller's principal under the current state, then
// decide one action on one BMC. "captured" is the same decision with roles
// taken at login, for reference. It reports p50 and p99 per decision.
//
// Run: go test -run '^$' -bench DecisionLiveCaller ./gateway/service/
func BenchmarkDecisionLiveCaller(b *testing.B) {
	st := benchState(b)
	all := st.Inventory.All()
	callers := make([]Caller, 1000)
	captured := make([]authz.Principal, 1000)
	for i := range callers {
		callers[i] = Caller{Identity: Identity{Name: fmt.Sprintf("u%04d", i), Source: SourceUser}, Door: "ssh"}
		captured[i], _ = st.Accounts.Principal(callers[i].Identity, "ssh")
	}
	acts := []authz.Action{authz.PowerCycle, authz.PowerOff, authz.PowerStatus, authz.BMCInfo}
	for _, mode := range []string{"resolved", "captured"} {
		b.Run(mode, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			allowed := 0
			b.ResetTimer()
			for i := range b.N {
				c, t, a := callers[i%1000], all[(i*7919)%len(all)].Target(), acts[i%len(acts)]
				start := time.Now()
				var d authz.Decision
				if mode == "resolved" {
					p, err := st.resolve(c)
					if err == nil {
						d = p.decide(st.Policy, a, t)
					}
				} else {
					d = st.Policy.Decide(captured[i%1000], a, t)
				}
				lat = append(lat, time.Since(start))
				if d.Allowed {
					allowed++
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			if allowed == 0 && b.N >= 1000 {
				b.Fatal("nothing was allowed: the benchmark policy is wrong")
			}
		})
	}
}
