package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// fakeBroker answers from memory and counts calls.
type fakeBroker struct {
	mu    sync.Mutex
	power map[string]ipmi.PowerState
	fail  map[string]error
	calls atomic.Int64
	delay time.Duration
}

func newFakeBroker() *fakeBroker {
	return &fakeBroker{power: map[string]ipmi.PowerState{}, fail: map[string]error{}}
}

func (f *fakeBroker) err(ep ipmi.Endpoint) error {
	f.calls.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[ep.Name]
}

func (f *fakeBroker) PowerStatus(_ context.Context, ep ipmi.Endpoint) (ipmi.PowerState, error) {
	if err := f.err(ep); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.power[ep.Name]; ok {
		return s, nil
	}
	return "off", nil
}

func (f *fakeBroker) Power(_ context.Context, ep ipmi.Endpoint, op ipmi.PowerOp) error {
	if err := f.err(ep); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if op == "off" || op == "soft" {
		f.power[ep.Name] = "off"
	} else {
		f.power[ep.Name] = "on"
	}
	return nil
}

func (f *fakeBroker) DeviceInfo(_ context.Context, ep ipmi.Endpoint) (ipmi.DeviceInfo, error) {
	return ipmi.DeviceInfo{FirmwareVersion: "1.0"}, f.err(ep)
}
func (f *fakeBroker) Sensors(_ context.Context, ep ipmi.Endpoint) ([]ipmi.Sensor, error) {
	return []ipmi.Sensor{{Name: "CPU"}}, f.err(ep)
}
func (f *fakeBroker) SEL(_ context.Context, ep ipmi.Endpoint, _ int) ([]ipmi.SELEntry, error) {
	return nil, f.err(ep)
}
func (f *fakeBroker) ClearSEL(_ context.Context, ep ipmi.Endpoint) error { return f.err(ep) }
func (f *fakeBroker) Boot(_ context.Context, ep ipmi.Endpoint) (ipmi.BootOverride, error) {
	return ipmi.BootOverride{Target: "pxe", Enabled: ipmi.BootOnce, Mode: ipmi.BootUEFI}, f.err(ep)
}
func (f *fakeBroker) SetBoot(_ context.Context, ep ipmi.Endpoint, _ ipmi.BootSet) error {
	return f.err(ep)
}

// fakeAudit keeps records in memory; failAfter makes appends fail.
type fakeAudit struct {
	mu      sync.Mutex
	recs    []audit.Record
	failing atomic.Bool
}

func (a *fakeAudit) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	if a.failing.Load() {
		return audit.Record{}, errors.New("disk full")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r.Seq = uint64(len(a.recs) + 1)
	a.recs = append(a.recs, r)
	return r, nil
}

func (a *fakeAudit) SearchPage(ctx context.Context, q audit.Query, fn func(audit.Record) error) (audit.Page, error) {
	return audit.Page{}, a.Search(ctx, q, fn)
}

func (a *fakeAudit) Search(_ context.Context, _ audit.Query, fn func(audit.Record) error) error {
	a.mu.Lock()
	recs := append([]audit.Record(nil), a.recs...)
	a.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (a *fakeAudit) Verify(context.Context) (audit.VerifyReport, error) {
	return audit.VerifyReport{OK: true}, nil
}

func (a *fakeAudit) codes(code string) []audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Record
	for _, r := range a.recs {
		if r.Code == code {
			out = append(out, r)
		}
	}
	return out
}

func mustSel(t *testing.T, s ...string) []authz.Selector {
	t.Helper()
	var out []authz.Selector
	for _, x := range s {
		sel, err := authz.ParseSelector(x)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sel)
	}
	return out
}

func mustActs(t *testing.T, s ...string) []authz.ActionPattern {
	t.Helper()
	var out []authz.ActionPattern
	for _, x := range s {
		p, err := authz.ParseActionPattern(x)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// newTestService: 6 BMCs, racks r1 (node01-03) and r2 (node04-06); roles
// admin (all), r1ops (power on rack r1, list everything), blind (power.status
// on node01 only, nothing listed).
func newTestService(t *testing.T) (*Service, *fakeBroker, *fakeAudit) {
	t.Helper()
	policy, err := authz.NewPolicy([]authz.Role{
		{Name: "admin", Rules: []authz.Rule{{Effect: authz.Allow, Actions: mustActs(t, "*"), BMCs: mustSel(t, "*")}}},
		{Name: "r1ops", Rules: []authz.Rule{
			{Effect: authz.Allow, Actions: mustActs(t, "power.*", "bmc.*"), BMCs: mustSel(t, "rack=r1")},
			{Effect: authz.Allow, Actions: mustActs(t, "bmc.list"), BMCs: mustSel(t, "*")},
			{Effect: authz.Deny, Actions: mustActs(t, "power.off"), BMCs: mustSel(t, "node03")},
		}},
		{Name: "blind", Rules: []authz.Rule{{Effect: authz.Allow, Actions: mustActs(t, "power.status"), BMCs: mustSel(t, "node01")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var bmcs []*BMC
	for i := 1; i <= 6; i++ {
		rack := "r1"
		if i > 3 {
			rack = "r2"
		}
		name := fmt.Sprintf("node%02d", i)
		bmcs = append(bmcs, &BMC{Name: name, Labels: map[string]string{"rack": rack},
			Endpoint: ipmi.Endpoint{Name: name, Host: "127.0.0.1", Port: 1000 + i}})
	}
	inv, err := NewInventory(bmcs)
	if err != nil {
		t.Fatal(err)
	}
	fb, fa := newFakeBroker(), &fakeAudit{}
	accts := NewAccounts([]Account{{Name: "u-admin", Roles: []string{"admin"}}, {Name: "u-r1ops", Roles: []string{"r1ops"}},
		{Name: "u-blind", Roles: []string{"blind"}}, {Name: "u-nobody"}}, nil, nil)
	svc := New(&State{Policy: policy, Inventory: inv, Accounts: accts, Limits: Limits{FanoutConcurrency: 3}}, IPMITransport{Broker: fb}, fa, nil)
	return svc, fb, fa
}

func caller(role string) Caller {
	return Caller{Identity: Identity{Name: "u-" + role, Source: SourceUser}, Door: "ssh", Source: "127.0.0.1:1", Session: "s1"}
}

func collect(t *testing.T, svc *Service, c Caller, sub string, sels ...string) ([]Result, error) {
	t.Helper()
	var out []Result
	err := svc.Power(context.Background(), c, sub, sels, func(r Result) { out = append(out, r) })
	return out, err
}

func TestPowerFanout(t *testing.T) {
	tests := []struct {
		name    string
		role    string
		sub     string
		sels    []string
		wantErr string
		want    []string // "name:ok" / "name:denied" / "name:error"
	}{
		{name: "admin all", role: "admin", sub: "status", sels: []string{"*"},
			want: []string{"node01:ok", "node02:ok", "node03:ok", "node04:ok", "node05:ok", "node06:ok"}},
		{name: "label selector", role: "admin", sub: "on", sels: []string{"rack=r2"},
			want: []string{"node04:ok", "node05:ok", "node06:ok"}},
		{name: "dedup and order", role: "admin", sub: "status", sels: []string{"node03", "node0[1-3]", "NODE01"},
			want: []string{"node01:ok", "node02:ok", "node03:ok"}},
		{name: "deny wins per target", role: "r1ops", sub: "off", sels: []string{"rack=r1"},
			want: []string{"node01:ok", "node02:ok", "node03:denied"}},
		{name: "visible but not allowed", role: "r1ops", sub: "on", sels: []string{"node04"},
			want: []string{"node04:denied"}},
		{name: "glob over visible only", role: "blind", sub: "status", sels: []string{"node*"},
			want: []string{"node01:ok"}},
		{name: "invisible exact name looks unknown", role: "blind", sub: "status", sels: []string{"node02"},
			wantErr: "node02: unknown BMC"},
		{name: "nonexistent name", role: "admin", sub: "status", sels: []string{"node99"},
			wantErr: "node99: unknown BMC"},
		{name: "glob matching nothing", role: "admin", sub: "status", sels: []string{"web*"},
			wantErr: "matches no BMC"},
		{name: "bad selector", role: "admin", sub: "status", sels: []string{"node[1"},
			wantErr: "bad target"},
		{name: "bad power op", role: "admin", sub: "explode", sels: []string{"node01"},
			wantErr: "unknown power operation"},
		{name: "no targets", role: "admin", sub: "status", wantErr: "no target given"},
		{name: "no roles", role: "nobody", sub: "status", sels: []string{"node01"},
			wantErr: "unknown BMC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, fa := newTestService(t)
			res, err := collect(t, svc, caller(tt.role), tt.sub, tt.sels...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(Message(err), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if len(tt.sels) > 0 && tt.sub != "explode" && tt.wantErr != "bad target" && len(fa.codes(audit.CodeDecision)) == 0 {
					t.Errorf("probe was not audited")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				s := "ok"
				if r.Denied {
					s = "denied"
				} else if !r.OK {
					s = "error"
				}
				got = append(got, r.BMC+":"+s)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			// One decision per target, and one outcome per allowed target.
			if d := len(fa.codes(audit.CodeDecision)); d != len(tt.want) {
				t.Errorf("%d decisions audited, want %d", d, len(tt.want))
			}
			ok := 0
			for _, r := range res {
				if r.OK {
					ok++
				}
			}
			if c := len(fa.codes(audit.CodeBMCCall)); c != ok {
				t.Errorf("%d outcomes audited, want %d", c, ok)
			}
		})
	}
}

func TestFailClosedWhenAuditFails(t *testing.T) {
	svc, fb, fa := newTestService(t)
	fa.failing.Store(true)
	res, err := collect(t, svc, caller("admin"), "off", "node01", "node02")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.OK || !strings.Contains(r.Message, "audit log is unavailable") {
			t.Errorf("%s: ok=%v message=%q, want refusal", r.BMC, r.OK, r.Message)
		}
	}
	if n := fb.calls.Load(); n != 0 {
		t.Fatalf("broker called %d times with the audit log down", n)
	}
	if _, err := svc.List(context.Background(), caller("admin"), nil); !errors.Is(err, ErrAuditUnavailable) {
		t.Errorf("List with audit down: %v", err)
	}
	if err := svc.AuditSearch(context.Background(), caller("admin"), audit.Query{}, func(audit.Record) error { return nil }); err == nil {
		t.Errorf("AuditSearch with audit down succeeded")
	}
}

func TestBrokerErrorIsUserMessage(t *testing.T) {
	svc, fb, fa := newTestService(t)
	fb.fail["node02"] = &ipmi.Error{BMC: "node02", Msg: "BMC did not answer", Err: errors.New("read udp: i/o timeout secret=hunter2")}
	res, err := collect(t, svc, caller("admin"), "status", "node0[12]")
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].OK || res[1].OK || res[1].Message != "BMC did not answer" {
		t.Fatalf("results %+v", res)
	}
	for _, r := range fa.codes(audit.CodeBMCCall) {
		if strings.Contains(r.Reason, "hunter2") {
			t.Fatalf("cause leaked into audit: %q", r.Reason)
		}
	}
}

func TestFanoutBoundedAndOrdered(t *testing.T) {
	var inflight, peak atomic.Int64
	var got []int
	Fanout(context.Background(), 50, 4, func(_ context.Context, i int) int {
		n := inflight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Duration(50-i) * 50 * time.Microsecond)
		inflight.Add(-1)
		return i
	}, func(i, r int) { got = append(got, r) })
	if peak.Load() > 4 {
		t.Errorf("peak concurrency %d > 4", peak.Load())
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("out of order at %d: %v", i, got)
		}
	}
	if len(got) != 50 {
		t.Fatalf("got %d results", len(got))
	}
}

func TestListAndWhoami(t *testing.T) {
	svc, _, _ := newTestService(t)
	ctx := context.Background()
	all, err := svc.List(ctx, caller("admin"), nil)
	if err != nil || len(all) != 6 || all[0].Actions[0] != "*" {
		t.Fatalf("admin list = %+v, %v", all, err)
	}
	r1, err := svc.List(ctx, caller("r1ops"), []string{"rack=r1"})
	if err != nil || len(r1) != 3 {
		t.Fatalf("r1ops list = %+v, %v", r1, err)
	}
	if got := strings.Join(r1[0].Actions, ","); got != "bmc.*,power.*" {
		t.Errorf("node01 actions for r1ops = %q", got)
	}
	if got := strings.Join(r1[2].Actions, ","); !strings.Contains(got, "power.on") || strings.Contains(got, "power.off") {
		t.Errorf("node03 actions for r1ops = %q", got)
	}
	blind, err := svc.List(ctx, caller("blind"), nil)
	if err != nil || len(blind) != 0 {
		t.Fatalf("blind list = %+v, %v", blind, err)
	}
	id, err := svc.Whoami(ctx, caller("admin"))
	if err != nil || id.User != "u-admin" || strings.Join(id.GlobalActions, ",") != "audit.read,session.join,session.terminate" {
		t.Errorf("whoami = %+v", id)
	}
}

func TestAuditSearchNeedsAuditRead(t *testing.T) {
	svc, _, fa := newTestService(t)
	err := svc.AuditSearch(context.Background(), caller("r1ops"), audit.Query{}, func(audit.Record) error { return nil })
	if err == nil || !errors.Is(err, ErrDenied) {
		t.Fatalf("r1ops audit search: %v", err)
	}
	ds := fa.codes(audit.CodeDecision)
	if len(ds) != 1 || ds[0].Outcome != audit.OutcomeDeny || ds[0].Action != "audit.read" {
		t.Fatalf("decision not audited: %+v", ds)
	}
	n := 0
	if err := svc.AuditSearch(context.Background(), caller("admin"), audit.Query{}, func(audit.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(fa.codes(audit.CodeAuditSearch)) != 1 || n == 0 {
		t.Fatalf("search not audited or empty (n=%d)", n)
	}
}

func TestSingleTargetCommands(t *testing.T) {
	svc, _, _ := newTestService(t)
	ctx := context.Background()
	if _, err := svc.Info(ctx, caller("admin"), "node0*"); err == nil || !strings.Contains(Message(err), "exactly one BMC") {
		t.Fatalf("info with a glob: %v", err)
	}
	res, err := svc.Info(ctx, caller("admin"), "node01")
	if err != nil || !res.OK {
		t.Fatalf("info: %+v %v", res, err)
	}
	if v := res.Value.(InfoView); v.Name != "node01" || v.Device.FirmwareVersion != "1.0" {
		t.Fatalf("info value %+v", v)
	}
	res, err = svc.ClearSEL(ctx, caller("r1ops"), "node01")
	if err != nil || !res.Denied {
		t.Fatalf("r1ops sel clear: %+v %v", res, err)
	}
}

func TestCommandTimeout(t *testing.T) {
	svc, fb, _ := newTestService(t)
	st := *svc.State()
	st.Limits.CommandTimeout = 20 * time.Millisecond
	svc.Swap(&st)
	fb.delay = 5 * time.Millisecond
	start := time.Now()
	if _, err := collect(t, svc, caller("admin"), "status", "*"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("command ran %v", time.Since(start))
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Time{
		"2h":                   now.Add(-2 * time.Hour),
		"2026-11-20":           time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00Z": time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}
	for in, want := range tests {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTime("yesterday\x1b[2J", now); err == nil || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("bad time error: %v", err)
	}
}

func TestParseTimeDocumentedForms(t *testing.T) {
	now := time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2h":                        now.Add(-2 * time.Hour),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"1w2d":                      now.Add(-9 * 24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		"2h ago":                    now.Add(-2 * time.Hour),
		"2026-11-24":                time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		"2026-11-24 10:00":          time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		"2026-11-24T10:00":          time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		"2026-11-24t10:00:00z":      time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		"2026-11-24T10:00:00+01:00": time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		"2026-11-24T10:00:00 01:00": time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), // "+" lost in a URL query
		"2026-11-24T10:00Z":         time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-2h", "yesterday", "99999w", "2026-13-01", "x\u200by"} {
		_, err := ParseTime(in, now)
		if err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
			continue
		}
		if msg := Message(err); strings.Contains(msg, `\\`) || msg == "internal error" {
			t.Errorf("ParseTime(%q): message %q", in, msg)
		}
	}
}
