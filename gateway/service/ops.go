package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// PowerActions maps the power sub-commands to their policy actions.
var PowerActions = map[string]authz.Action{
	"status": authz.PowerStatus,
	"on":     authz.PowerOn,
	"off":    authz.PowerOff,
	"cycle":  authz.PowerCycle,
	"reset":  authz.PowerReset,
	"soft":   authz.PowerSoft,
}

// Power runs a power sub-command ("status", "on", "off", "cycle", "reset",
// "soft") on every selected BMC. A successful status result carries an
// ipmi.PowerState; a successful control result carries the new requested
// state as a string.
func (s *Service) Power(ctx context.Context, c Caller, sub string, selectors []string, emit func(Result)) error {
	a, ok := PowerActions[sub]
	if !ok {
		return &UserError{Msg: fmt.Sprintf("unknown power operation %s (use status, on, off, cycle, reset or soft)", quote(sub))}
	}
	req := Request{Caller: c, Action: a, Selectors: selectors}
	if a == authz.PowerStatus {
		return s.run(ctx, req, func(ctx context.Context, b *BMC) (any, error) {
			return s.transport(b).PowerStatus(ctx, b)
		}, emit)
	}
	op := ipmi.PowerOp(sub)
	return s.run(ctx, req, func(ctx context.Context, b *BMC) (any, error) {
		t, note := s.transport(b), ""
		if pn, ok := t.(powerNoter); ok {
			n, err := pn.PowerNote(ctx, b, op)
			if err != nil {
				return nil, err
			}
			note = n
		} else if err := t.Power(ctx, b, op); err != nil {
			return nil, err
		}
		if note != "" {
			return PowerDone(sub + " (" + note + ")"), nil
		}
		return PowerDone(sub), nil
	}, emit)
}

// PowerDone is the value of a successful power control result: the
// operation, and how it was done when that is not obvious.
type PowerDone string

func (p PowerDone) String() string { return "power " + string(p) + " sent" }

// single runs a one-BMC request and returns its result.
func (s *Service) single(ctx context.Context, c Caller, a authz.Action, name string, fn call) (Result, error) {
	var res Result
	err := s.run(ctx, Request{Caller: c, Action: a, Selectors: []string{name}, Single: true}, fn,
		func(r Result) { res = r })
	return res, err
}

// InfoView is the answer of Info: what bmcgate knows of a BMC plus what the
// BMC reports of itself.
type InfoView struct {
	Name string `json:"name"`
	// Address is where commands reach the BMC: host:port for IPMI, the
	// Redfish service's base URL for a Redfish BMC (BMC.ShownAddress).
	Address string            `json:"address"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Protocol is ipmi or redfish. Device is what an IPMI BMC reports
	// (Get Device ID), System what a Redfish BMC does (its system and
	// manager); the other is absent.
	Protocol string           `json:"protocol"`
	Device   *ipmi.DeviceInfo `json:"device,omitempty"`
	System   *redfish.Info    `json:"system,omitempty"`
}

// Info reads a BMC's device information.
func (s *Service) Info(ctx context.Context, c Caller, name string) (Result, error) {
	return s.single(ctx, c, authz.BMCInfo, name, func(ctx context.Context, b *BMC) (any, error) {
		v := InfoView{Name: b.Name, Address: b.ShownAddress(), Labels: b.Labels, Protocol: b.protocol()}
		t := s.transport(b)
		if si, ok := t.(systemInfoer); ok {
			y, err := si.SystemInfo(ctx, b)
			if err != nil {
				return nil, err
			}
			v.System = &y
			return v, nil
		}
		d, err := t.DeviceInfo(ctx, b)
		if err != nil {
			return nil, err
		}
		v.Device = &d
		return v, nil
	})
}

// Sensors reads a BMC's sensors.
func (s *Service) Sensors(ctx context.Context, c Caller, name string) (Result, error) {
	return s.single(ctx, c, authz.SensorsRead, name, func(ctx context.Context, b *BMC) (any, error) {
		return s.transport(b).Sensors(ctx, b)
	})
}

// SEL reads up to limit entries of a BMC's system event log.
func (s *Service) SEL(ctx context.Context, c Caller, name string, limit int) (Result, error) {
	return s.single(ctx, c, authz.SELRead, name, func(ctx context.Context, b *BMC) (any, error) {
		return s.transport(b).SEL(ctx, b, limit)
	})
}

// ClearSEL clears a BMC's system event log.
func (s *Service) ClearSEL(ctx context.Context, c Caller, name string) (Result, error) {
	return s.single(ctx, c, authz.SELClear, name, func(ctx context.Context, b *BMC) (any, error) {
		return nil, s.transport(b).ClearSEL(ctx, b)
	})
}

// ListEntry is one line of List.
type ListEntry struct {
	Name    string            `json:"name"`
	Address string            `json:"address"`
	Labels  map[string]string `json:"labels,omitempty"`
	Actions []string          `json:"actions"` // what the caller may do on it
}

// List returns the BMCs the caller may list, optionally narrowed by
// selectors. It writes one audit record for the listing as a whole.
func (s *Service) List(ctx context.Context, c Caller, selectors []string) ([]ListEntry, error) {
	st := s.State()
	p, err := s.principal(ctx, st, c, authz.BMCList, strings.Join(selectors, " "))
	if err != nil {
		return nil, err
	}
	var set selectorSet
	if len(selectors) > 0 {
		var err error
		if set, err = parseSelectors(selectors); err != nil {
			return nil, err
		}
	}
	var out []ListEntry
	for _, b := range st.Inventory.All() {
		t := b.Target()
		if !p.allowed(st.Policy, authz.BMCList, t) {
			continue
		}
		if len(set.sels) > 0 && !matchesAny(set, t) {
			continue
		}
		out = append(out, ListEntry{Name: b.Name, Address: b.ShownAddress(), Labels: b.Labels,
			Actions: allowedActions(st, p, t)})
	}
	r := c.record(audit.CodeDecision)
	r.Action = string(authz.BMCList)
	r.Outcome = audit.OutcomeAllow
	r.Reason = fmt.Sprintf("listed %d of %d BMCs", len(out), st.Inventory.Len())
	if len(selectors) > 0 {
		r.Fields = map[string]string{"selectors": fmt.Sprint(selectors)}
	}
	if err := s.Audit(ctx, r); err != nil {
		return nil, err
	}
	return out, nil
}

// allowedActions lists what the principal may do on t, compressed: "*"
// when every BMC action is allowed, "power.*" when every power action is.
func allowedActions(st *State, p principal, t authz.Target) []string {
	groups := map[string][2]int{} // prefix -> {allowed, total}
	var order []string
	var allowed []authz.Action
	for _, a := range authz.KnownActions() {
		if a.Global() {
			continue
		}
		prefix, _, _ := strings.Cut(string(a), ".")
		g, seen := groups[prefix]
		if !seen {
			order = append(order, prefix)
		}
		g[1]++
		if p.allowed(st.Policy, a, t) {
			g[0]++
			allowed = append(allowed, a)
		}
		groups[prefix] = g
	}
	out := []string{}
	all := true
	for _, p := range order {
		g := groups[p]
		if g[0] != g[1] {
			all = false
		}
	}
	if all {
		return []string{"*"}
	}
	done := map[string]bool{}
	for _, a := range allowed {
		prefix, _, _ := strings.Cut(string(a), ".")
		g := groups[prefix]
		if g[0] == g[1] && g[1] > 1 {
			if !done[prefix] {
				out = append(out, prefix+".*")
				done[prefix] = true
			}
			continue
		}
		out = append(out, string(a))
	}
	return out
}

func matchesAny(set selectorSet, t authz.Target) bool {
	for _, s := range set.sels {
		if s.Match(t) {
			return true
		}
	}
	return false
}

// WhoamiView is the answer of Whoami.
type WhoamiView struct {
	User          string   `json:"user"`
	Roles         []string `json:"roles"`
	Door          string   `json:"door"`
	Source        string   `json:"source"`
	Session       string   `json:"session"`
	Auth          string   `json:"auth"`
	GlobalActions []string `json:"global_actions"`
}

// Whoami describes the caller as the gateway sees them now: the roles and
// global actions the current config gives them. A caller the config no
// longer lets act is refused, and the refusal recorded.
func (s *Service) Whoami(ctx context.Context, c Caller) (WhoamiView, error) {
	st := s.State()
	p, err := s.principal(ctx, st, c, "", "")
	if err != nil {
		return WhoamiView{}, err
	}
	roles := p.Roles
	if roles == nil {
		roles = []string{}
	}
	id := WhoamiView{User: c.Name(), Roles: roles, Door: c.Door,
		Source: c.Source, Session: c.Session, Auth: c.Auth, GlobalActions: []string{}}
	for _, a := range authz.KnownActions() {
		if a.Global() && p.allowed(st.Policy, a, authz.Target{}) {
			id.GlobalActions = append(id.GlobalActions, string(a))
		}
	}
	return id, nil
}
