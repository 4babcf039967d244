package service

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
)

// DashEntry is one BMC on a dashboard: its name and labels, the cached
// power state when the caller may read it, and the power operations the
// caller may run on it.
type DashEntry struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Power  *PowerEntry       `json:"power,omitempty"`
	Ops    []string          `json:"ops,omitempty"` // allowed power sub-commands other than status, in order
}

// dashOps are the power operations a dashboard offers, in display order.
var dashOps = []string{"on", "off", "cycle", "reset", "soft"}

// Dashboard lists the BMCs the caller may list with their cached power
// state (only where power.status is allowed). It is audited as one listing,
// like List.
func (s *Service) Dashboard(ctx context.Context, c Caller, pc *PowerCache) ([]DashEntry, error) {
	st := s.State()
	p, err := s.principal(ctx, st, c, authz.BMCList, "")
	if err != nil {
		return nil, err
	}
	snap := pc.Snapshot(ctx, 0)
	out := make([]DashEntry, 0, st.Inventory.Len())
	for _, b := range st.Inventory.All() {
		t := b.Target()
		if !p.allowed(st.Policy, authz.BMCList, t) {
			continue
		}
		e := DashEntry{Name: b.Name, Labels: b.Labels}
		if p.allowed(st.Policy, authz.PowerStatus, t) {
			if p, ok := snap[b.Name]; ok {
				e.Power = &p
			}
		}
		for _, op := range dashOps {
			if p.allowed(st.Policy, PowerActions[op], t) {
				e.Ops = append(e.Ops, op)
			}
		}
		out = append(out, e)
	}
	r := c.record(audit.CodeDecision)
	r.Action = string(authz.BMCList)
	r.Outcome = audit.OutcomeAllow
	r.Reason = fmt.Sprintf("dashboard: listed %d of %d BMCs", len(out), st.Inventory.Len())
	if err := s.Audit(ctx, r); err != nil {
		return nil, err
	}
	return out, nil
}

// PowerAllowed reports which power sub-commands the policy allows the
// caller on t. It is a query for showing buttons, not a decision to act:
// the action itself is decided and audited when it runs.
func (s *Service) PowerAllowed(c Caller, t authz.Target) map[string]bool {
	st := s.State()
	out := make(map[string]bool, len(PowerActions))
	p, err := st.resolve(c)
	if err != nil {
		return out
	}
	for sub, a := range PowerActions {
		if p.allowed(st.Policy, a, t) {
			out[sub] = true
		}
	}
	return out
}

// ActionsAllowed reports which of acts the policy allows the caller on t.
// Like PowerAllowed it is a query for showing controls, not a decision to
// act.
func (s *Service) ActionsAllowed(c Caller, t authz.Target, acts ...authz.Action) map[authz.Action]bool {
	st := s.State()
	out := make(map[authz.Action]bool, len(acts))
	p, err := st.resolve(c)
	if err != nil {
		return out
	}
	for _, a := range acts {
		out[a] = p.allowed(st.Policy, a, t)
	}
	return out
}

// HasMedia reports whether b's transport has virtual media slots (a
// Redfish BMC's does), so a door offers media controls only there.
func (s *Service) HasMedia(b *BMC) bool {
	_, err := s.mediaTransport(b)
	return err == nil
}

// ImageNames lists the names of the image library's images, the only
// things a user may insert; none without a library.
func (s *Service) ImageNames() []string {
	if n, ok := s.imageServer().(interface{ Images() []string }); ok {
		return n.Images()
	}
	return nil
}

// Lookup finds a BMC the caller may see (bmc.list or bmc.info) by name.
func (s *Service) Lookup(c Caller, name string) (*BMC, bool) {
	st := s.State()
	b, ok := st.Inventory.Lookup(name)
	if !ok {
		return nil, false
	}
	p, err := st.resolve(c)
	if err != nil || !visible(st, p, authz.BMCInfo, b) {
		return nil, false
	}
	return b, true
}

// Allowed reports whether the policy allows a global action (like
// audit.read) to the caller, for showing links; not audited.
func (s *Service) Allowed(c Caller, a authz.Action) bool {
	st := s.State()
	p, err := st.resolve(c)
	return err == nil && p.allowed(st.Policy, a, authz.Target{})
}

// OwnEvents returns the caller's own most recent audit records, newest
// first. Every user may read their own trail; it needs no audit.read.
func (s *Service) OwnEvents(ctx context.Context, c Caller, limit int) ([]audit.Record, error) {
	if c.Name() == "" {
		return nil, &UserError{Msg: "no user"}
	}
	if _, err := s.principal(ctx, s.State(), c, "", ""); err != nil {
		return nil, err
	}
	var out []audit.Record
	q := audit.Query{Actor: audit.Sanitize(c.Name()), Newest: true, Limit: limit}
	if err := s.audit.Search(ctx, q, func(r audit.Record) error {
		r.Data = nil
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, &UserError{Msg: "audit search failed", Err: fmt.Errorf("own events: %w", err)}
	}
	return out, nil
}
