package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// otherTransport stands for a transport of another protocol: it answers
// every BMC "on" and counts its calls.
type otherTransport struct{ calls int }

func (o *otherTransport) PowerStatus(context.Context, *BMC) (PowerState, error) {
	o.calls++
	return "on", nil
}
func (o *otherTransport) Power(context.Context, *BMC, PowerOp) error { o.calls++; return nil }
func (o *otherTransport) DeviceInfo(context.Context, *BMC) (DeviceInfo, error) {
	o.calls++
	return DeviceInfo{}, nil
}
func (o *otherTransport) Sensors(context.Context, *BMC) ([]Sensor, error) { o.calls++; return nil, nil }
func (o *otherTransport) SEL(context.Context, *BMC, int) ([]LogEntry, error) {
	o.calls++
	return nil, nil
}
func (o *otherTransport) ClearSEL(context.Context, *BMC) error { o.calls++; return nil }

// TestPerBMCTransport: a BMC whose inventory entry names a transport is
// reached through it, decided and audited exactly like the others; the
// rest use the service's transport.
func TestPerBMCTransport(t *testing.T) {
	svc, fb, fa := newTestService(t)
	other := &otherTransport{}
	st := svc.State()
	var bmcs []*BMC
	for _, b := range st.Inventory.All() {
		cp := *b
		if cp.Name == "node02" {
			cp.Transport = other
		}
		bmcs = append(bmcs, &cp)
	}
	inv, err := NewInventory(bmcs)
	if err != nil {
		t.Fatal(err)
	}
	next := *st
	next.Inventory = inv
	svc.Swap(&next)

	res, err := collect(t, svc, caller("admin"), "status", "node01", "node02", "node03")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || other.calls != 1 || fb.calls.Load() != 2 {
		t.Fatalf("results %d, other transport %d calls, IPMI %d calls", len(res), other.calls, fb.calls.Load())
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s: %s", r.BMC, r.Message)
		}
	}
	if _, err := svc.SEL(context.Background(), caller("admin"), "node02", 10); err != nil {
		t.Fatal(err)
	}
	if other.calls != 2 {
		t.Errorf("SEL of node02 did not go through its transport")
	}
	outcomes := 0
	fa.mu.Lock()
	defer fa.mu.Unlock()
	for _, r := range fa.recs {
		if r.Target == "node02" {
			outcomes++
		}
	}
	if outcomes < 4 { // decision and outcome of each call
		t.Errorf("node02: %d audit records, want a decision and an outcome per call", outcomes)
	}
}

// redfishLike stands for another transport's error type: a user message
// of its own and a cause that must not be shown.
type redfishLike struct{ msg, cause string }

func (e *redfishLike) Error() string       { return "other: " + e.msg + ": " + e.cause }
func (e *redfishLike) UserMessage() string { return e.msg }

// TestMessageOfAnyTransport: users see the user message of whichever
// transport failed (made terminal-safe), never its cause.
func TestMessageOfAnyTransport(t *testing.T) {
	err := fmt.Errorf("power status: %w", &redfishLike{msg: "the BMC refused the login\x1b[2J", cause: "401 from https://10.0.0.5 token=abc"})
	got := Message(err)
	if strings.Contains(got, "token") || strings.Contains(got, "\x1b") || !strings.HasPrefix(got, "the BMC refused the login") {
		t.Errorf("Message = %q", got)
	}
	if Message(errors.New("raw")) != "internal error" {
		t.Error("an error without a user message is shown")
	}
}
