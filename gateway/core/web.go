package core

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
)

// DashEntry is one BMC on a dashboard: what List says plus the cached
// power state when the caller may read it.
type DashEntry struct {
	ListEntry
	Power *PowerEntry `json:"power,omitempty"`
	// Allowed maps the power sub-commands the caller may run here.
	Allowed map[string]bool `json:"-"`
}

// Dashboard lists the BMCs the caller may see with their cached power state
// (shown only where power.status is allowed). It is audited as one listing.
func (s *Service) Dashboard(ctx context.Context, c Caller, pc *PowerCache) ([]DashEntry, error) {
	list, err := s.List(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	st := s.State()
	snap := pc.Snapshot(ctx, 0)
	out := make([]DashEntry, 0, len(list))
	for _, l := range list {
		e := DashEntry{ListEntry: l}
		if b, ok := st.Inventory.Lookup(l.Name); ok {
			e.Allowed = s.PowerAllowed(c, b.Target())
			if e.Allowed["status"] {
				if p, ok := snap[l.Name]; ok {
					e.Power = &p
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// PowerAllowed reports which power sub-commands the policy allows the
// caller on t. It is a query for showing buttons, not a decision to act:
// the action itself is decided and audited when it runs.
func (s *Service) PowerAllowed(c Caller, t authz.Target) map[string]bool {
	st := s.State()
	out := make(map[string]bool, len(PowerActions))
	for sub, a := range PowerActions {
		if st.Policy.Decide(c.Principal, a, t).Allowed {
			out[sub] = true
		}
	}
	return out
}

// Lookup finds a BMC the caller may see (bmc.list or bmc.info) by name.
func (s *Service) Lookup(c Caller, name string) (*BMC, bool) {
	st := s.State()
	b, ok := st.Inventory.Lookup(name)
	if !ok || !visible(st, c, authz.BMCInfo, b) {
		return nil, false
	}
	return b, true
}

// Allowed reports whether the policy allows a global action (like
// audit.read) to the caller, for showing links; not audited.
func (s *Service) Allowed(c Caller, a authz.Action) bool {
	return s.State().Policy.Decide(c.Principal, a, authz.Target{}).Allowed
}

// OwnEvents returns the caller's own most recent audit records, newest
// first. Every user may read their own trail; it needs no audit.read.
func (s *Service) OwnEvents(ctx context.Context, c Caller, limit int) ([]audit.Record, error) {
	if c.Principal.Name == "" {
		return nil, &UserError{Msg: "no user"}
	}
	var out []audit.Record
	q := audit.Query{Actor: audit.Sanitize(c.Principal.Name), Newest: true, Limit: limit}
	if err := s.audit.Search(ctx, q, func(r audit.Record) error {
		r.Data = nil
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, &UserError{Msg: "audit search failed", Err: fmt.Errorf("own events: %w", err)}
	}
	return out, nil
}
