package redfish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// PowerState and PowerOp are the IPMI broker's, so that both transports'
// results render alike.
type (
	PowerState = ipmi.PowerState
	PowerOp    = ipmi.PowerOp
)

// Power states and operations (see package ipmi).
const (
	PowerStateOn      = ipmi.PowerStateOn
	PowerStateOff     = ipmi.PowerStateOff
	PowerStateUnknown = ipmi.PowerStateUnknown

	PowerOn    = ipmi.PowerOn
	PowerOff   = ipmi.PowerOff
	PowerCycle = ipmi.PowerCycle
	PowerReset = ipmi.PowerReset
	PowerSoft  = ipmi.PowerSoft
)

// resetTypes are the ResetType values for each operation, preferred first.
var resetTypes = map[PowerOp][]string{
	PowerOn:    {"On", "ForceOn"},
	PowerOff:   {"ForceOff"},
	PowerSoft:  {"GracefulShutdown"},
	PowerReset: {"ForceRestart"},
	PowerCycle: {"PowerCycle"},
}

// PowerResult says what a power operation sent to the BMC.
type PowerResult struct {
	Op         PowerOp  `json:"op"`
	ResetTypes []string `json:"reset_types"` // ComputerSystem.Reset types sent, in order
	Note       string   `json:"note,omitempty"`
}

type resetAction struct {
	Target     string   `json:"target"`
	Allowable  []string `json:"ResetType@Redfish.AllowableValues"`
	ActionInfo string   `json:"@Redfish.ActionInfo"`
}

type powerDoc struct {
	PowerState string
	Actions    struct {
		Reset *resetAction `json:"#ComputerSystem.Reset"`
	}
}

type actionInfo struct {
	Parameters []struct {
		Name            string
		AllowableValues []string
	}
}

func powerState(s string) PowerState {
	switch s {
	case "On", "PoweringOff":
		return PowerStateOn
	case "Off", "PoweringOn":
		return PowerStateOff
	}
	return PowerStateUnknown
}

// PowerStatus returns the system's power state.
func (b *Broker) PowerStatus(ctx context.Context, ep Endpoint) (PowerState, error) {
	state := PowerStateUnknown
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		var d struct{ PowerState string }
		if _, err := m.get(ctx, sp, "system", &d); err != nil {
			return err
		}
		state = powerState(d.PowerState)
		return nil
	})
	return state, err
}

// SupportedResetTypes returns the ResetType values the BMC advertises for
// ComputerSystem.Reset (its ActionInfo, else @Redfish.AllowableValues); nil
// when it advertises none.
func (b *Broker) SupportedResetTypes(ctx context.Context, ep Endpoint) ([]string, error) {
	var out []string
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		_, out, err = m.resetAction(ctx, sp)
		return err
	})
	return out, err
}

// resetAction returns the Reset action's target and the supported reset
// types (nil: not advertised).
func (m *bmc) resetAction(ctx context.Context, sp string) (string, []string, error) {
	var d powerDoc
	if _, err := m.get(ctx, sp, "system", &d); err != nil {
		return "", nil, err
	}
	a := d.Actions.Reset
	if a == nil || a.Target == "" {
		return "", nil, newError(m.name, KindUnsupported, "the BMC offers no ComputerSystem.Reset action", nil)
	}
	target, err := m.resolve(a.Target)
	if err != nil {
		return "", nil, err
	}
	allowed := clean(a.Allowable)
	if a.ActionInfo != "" {
		if v, err := m.actionInfoValues(ctx, a.ActionInfo, "ResetType"); err == nil && v != nil {
			allowed = v
		} else if err != nil {
			m.o.Logger.Info("redfish ActionInfo unreadable; using the action's own values", "bmc", m.name, "err", err)
		}
	}
	return target, allowed, nil
}

// actionInfoValues reads the allowable values of one parameter from an
// ActionInfo resource (nil when it names none).
func (m *bmc) actionInfoValues(ctx context.Context, ref, param string) ([]string, error) {
	p, err := m.resolve(ref)
	if err != nil {
		return nil, err
	}
	var ai actionInfo
	if _, err := m.get(ctx, p, "action description (ActionInfo)", &ai); err != nil {
		return nil, err
	}
	for _, prm := range ai.Parameters {
		if prm.Name == param {
			return clean(prm.AllowableValues), nil
		}
	}
	return nil, nil
}

// clean keeps printable, non-empty values (at most 64).
func clean(vs []string) []string {
	if vs == nil {
		return nil
	}
	out := []string{}
	for _, v := range vs {
		if v = printable(v); v != "" && len(v) <= 64 && len(out) < 64 {
			out = append(out, v)
		}
	}
	return out
}

// choose returns the first candidate the BMC allows (in its spelling); with
// nothing advertised, the first candidate.
func choose(allowed, candidates []string) (string, bool) {
	if allowed == nil {
		return candidates[0], true
	}
	for _, c := range candidates {
		for _, a := range allowed {
			if strings.EqualFold(a, c) {
				return a, true
			}
		}
	}
	return "", false
}

func supportsText(allowed []string) string {
	if len(allowed) == 0 {
		return "none"
	}
	return strings.Join(allowed, ", ")
}

// Power runs a power operation through ComputerSystem.Reset: on → On (or
// ForceOn), off → ForceOff, soft → GracefulShutdown, reset → ForceRestart,
// cycle → PowerCycle, or on a BMC without PowerCycle ForceOff and then On
// once the system reports Off (the result's Note says so). An operation
// the BMC does not support fails with ErrUnsupported naming what it
// supports. A reset whose answer is lost is reported as ErrUnknownOutcome
// and never sent again.
func (b *Broker) Power(ctx context.Context, ep Endpoint, op PowerOp) (PowerResult, error) {
	res := PowerResult{Op: op, ResetTypes: []string{}}
	cands, ok := resetTypes[op]
	if !ok {
		return res, newError(ep.Name, KindConfig, fmt.Sprintf("unknown power operation %q", printable(string(op))), nil)
	}
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		target, allowed, err := m.resetAction(ctx, sp)
		if err != nil {
			return err
		}
		rt, ok := choose(allowed, cands)
		if ok {
			if err := m.reset(ctx, target, rt); err != nil {
				return err
			}
			res.ResetTypes = append(res.ResetTypes, rt)
			return nil
		}
		if op != PowerCycle {
			return newError(m.name, KindUnsupported, fmt.Sprintf("the BMC does not support power %s (ResetType %s); it supports: %s",
				op, strings.Join(cands, " or "), supportsText(allowed)), nil)
		}
		return m.cycleOffOn(ctx, sp, target, allowed, &res)
	})
	return res, err
}

// cycleOffOn emulates a power cycle with ForceOff, a wait for Off, and On.
func (m *bmc) cycleOffOn(ctx context.Context, sp, target string, allowed []string, res *PowerResult) error {
	off, okOff := choose(allowed, resetTypes[PowerOff])
	on, okOn := choose(allowed, resetTypes[PowerOn])
	if !okOff || !okOn {
		return newError(m.name, KindUnsupported, "the BMC supports neither PowerCycle nor ForceOff and On; it supports: "+supportsText(allowed), nil)
	}
	var d struct{ PowerState string }
	if _, err := m.get(ctx, sp, "system", &d); err != nil {
		return err
	}
	if powerState(d.PowerState) != PowerStateOn {
		return newError(m.name, KindBMC, "the host is not on; a power cycle needs it on (use power on)", nil)
	}
	if err := m.reset(ctx, target, off); err != nil {
		return err
	}
	res.ResetTypes = append(res.ResetTypes, off)
	if err := m.waitOff(ctx, sp); err != nil {
		return err
	}
	if err := m.reset(ctx, target, on); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Msg = "the host was powered off but not on again: " + e.Msg
		}
		return err
	}
	res.ResetTypes = append(res.ResetTypes, on)
	res.Note = fmt.Sprintf("the BMC has no PowerCycle: sent %s, then %s once the system reported Off", off, on)
	return nil
}

// waitOff polls the power state until Off, within Options.CycleOffWait.
func (m *bmc) waitOff(ctx context.Context, sp string) error {
	ctx, cancel := context.WithTimeout(ctx, m.o.CycleOffWait)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		var d struct{ PowerState string }
		if _, err := m.get(ctx, sp, "system", &d); err != nil {
			return err
		}
		if d.PowerState == "Off" {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return newError(m.name, KindBMC, "the host was sent ForceOff but did not report Off in time; it was not powered on again", ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// reset posts one ComputerSystem.Reset.
func (m *bmc) reset(ctx context.Context, target, rt string) error {
	_, err := m.write(ctx, request{method: http.MethodPost, path: target, body: map[string]string{"ResetType": rt}, write: true},
		"power operation "+rt)
	return err
}
