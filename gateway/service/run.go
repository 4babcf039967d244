package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// Result is the outcome of one action on one BMC.
type Result struct {
	BMC      string
	Action   authz.Action
	OK       bool
	Denied   bool
	Message  string // for the user: the denial reason or the error message
	Err      error  // cause, for logs only
	Value    any    // the action's answer (power state, device info, ...)
	Duration time.Duration
}

// call is the broker work for one BMC.
type call func(ctx context.Context, b *BMC) (any, error)

// Request names the action and the targets of a front-door command.
type Request struct {
	Caller    Caller
	Action    authz.Action
	Selectors []string
	// Single requires the selectors to name exactly one BMC.
	Single bool
}

// visible reports whether the principal may learn that b exists in the
// context of action a. This is a pure policy query, not a decision to act,
// so it is not audited on its own. It asks the roles alone: a credential's
// scope narrows what may be done, not who the caller is, so an action out
// of scope is denied as such rather than reported as an unknown BMC.
func visible(st *State, p principal, a authz.Action, b *BMC) bool {
	t := b.Target()
	return st.Policy.Decide(p.Principal, authz.BMCList, t).Allowed || st.Policy.Decide(p.Principal, a, t).Allowed
}

// resolve expands the request's selectors into the BMCs visible to the
// caller, in name order, without duplicates. Exact names that do not exist
// and names the caller cannot see are both reported as unknown, so the
// inventory cannot be probed; the probe itself is audited.
func (s *Service) resolve(ctx context.Context, st *State, req Request, p principal) ([]*BMC, error) {
	set, err := parseSelectors(req.Selectors)
	if err != nil {
		if err == errNoSelector {
			return nil, &UserError{Msg: "no target given: name a BMC, a glob like node*, or a label like rack=r1"}
		}
		return nil, err
	}
	picked := make(map[string]bool)
	for i, sel := range set.sels {
		n := 0
		for _, b := range st.Inventory.All() {
			if !sel.Match(b.Target()) || !visible(st, p, req.Action, b) {
				continue
			}
			n++
			picked[b.Name] = true
		}
		if n > 0 {
			continue
		}
		r := req.Caller.record(audit.CodeDecision)
		r.Action = string(req.Action)
		r.Target = set.raw[i]
		r.Outcome = audit.OutcomeDeny
		if sel.IsExact() {
			r.Reason = "unknown BMC or not visible to the user"
			if err := s.Audit(ctx, r); err != nil {
				return nil, err
			}
			return nil, &UserError{Msg: fmt.Sprintf("%s: unknown BMC", safe(set.raw[i])), Err: ErrUnknownBMC}
		}
		r.Reason = "selector matches no BMC visible to the user"
		if err := s.Audit(ctx, r); err != nil {
			return nil, err
		}
		return nil, &UserError{Msg: fmt.Sprintf("%s: matches no BMC you can see", safe(set.raw[i]))}
	}
	var out []*BMC
	for _, b := range st.Inventory.All() {
		if picked[b.Name] {
			out = append(out, b)
		}
	}
	if req.Single && len(out) != 1 {
		return nil, &UserError{Msg: fmt.Sprintf("this command takes exactly one BMC; %s matches %d", quote(strings.Join(req.Selectors, " ")), len(out))}
	}
	if len(out) > st.Limits.MaxTargets {
		return nil, &UserError{Msg: fmt.Sprintf("%d BMCs selected; the limit per command is %d", len(out), st.Limits.MaxTargets)}
	}
	return out, nil
}

// run resolves the request, then for every target decides, audits the
// decision, performs fn and audits the outcome. Results are passed to emit
// in name order. run returns an error only when the request as a whole
// could not start (bad selector, audit unavailable during resolution).
func (s *Service) run(ctx context.Context, req Request, fn call, emit func(Result)) error {
	return s.runWith(ctx, s.State(), req, fn, emit)
}

// runWith is run under the given state: the caller's principal, the
// policy, the inventory and the limits (timeout, concurrency) are those of
// st.
func (s *Service) runWith(ctx context.Context, st *State, req Request, fn call, emit func(Result)) error {
	ctx, cancel := context.WithTimeout(ctx, st.Limits.CommandTimeout)
	defer cancel()
	p, err := s.principal(ctx, st, req.Caller, req.Action, strings.Join(req.Selectors, " "))
	if err != nil {
		return err
	}
	targets, err := s.resolve(ctx, st, req, p)
	if err != nil {
		return err
	}
	Fanout(ctx, len(targets), st.Limits.FanoutConcurrency,
		func(ctx context.Context, i int) Result { return s.one(ctx, st, req, p, targets[i], fn) },
		func(_ int, r Result) { emit(r) })
	return nil
}

// one performs the request on one BMC.
func (s *Service) one(ctx context.Context, st *State, req Request, p principal, b *BMC, fn call) Result {
	res := Result{BMC: b.Name, Action: req.Action}
	d, err := s.decideAs(ctx, st, req.Caller, p, req.Action, b.Target())
	if err != nil {
		res.Message, res.Err = Message(err), err
		return res
	}
	if !d.Allowed {
		res.Denied, res.Message, res.Err = true, d.Reason, ErrDenied
		return res
	}
	start := s.now()
	v, err := fn(ctx, b)
	res.Duration = s.now().Sub(start)
	out := req.Caller.record(audit.CodeBMCCall)
	out.Target, out.Action, out.Duration = b.Name, string(req.Action), res.Duration
	if err != nil {
		res.Message, res.Err = Message(err), err
		out.Outcome, out.Reason = audit.OutcomeError, res.Message
		s.log.Warn("bmc call failed", "bmc", b.Name, "action", req.Action, "actor", req.Caller.Name(), "err", err)
	} else {
		res.OK, res.Value = true, v
		out.Outcome = audit.OutcomeOK
		if f := summarize(v); f != "" {
			out.Fields = map[string]string{"result": f}
		}
	}
	// The action has already happened; a failure to record its outcome is
	// reported to the user rather than hidden.
	if aerr := s.Audit(context.WithoutCancel(ctx), out); aerr != nil && res.OK {
		res.OK, res.Message, res.Err = false, "done, but the outcome could not be written to the audit log", aerr
	}
	return res
}

// summarize gives a short audit field for a successful result.
func summarize(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case ipmi.PowerState:
		return "power " + string(x)
	case fmt.Stringer:
		return x.String()
	}
	return ""
}
