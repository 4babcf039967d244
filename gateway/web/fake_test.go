package web

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// fakeService is the service layer as the web door sees it (Service):
// the BMCs and their power answers come from a table (absent BMCs are
// unknown), everything is allowed unless a BMC's answer says denied, and
// every BMC call the door makes and every record it writes is kept.
type fakeService struct {
	power map[string]service.Result // power status by BMC

	mu    sync.Mutex
	recs  []audit.Record
	calls []string
}

func (f *fakeService) called(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

// reset forgets the calls and records so far.
func (f *fakeService) reset() {
	f.mu.Lock()
	f.recs, f.calls = nil, nil
	f.mu.Unlock()
}

func (f *fakeService) names() []string {
	var out []string
	for n := range f.power {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f *fakeService) unknown(name string) error {
	return &service.UserError{Msg: name + ": unknown BMC", Err: service.ErrUnknownBMC}
}

func (f *fakeService) Audit(_ context.Context, r audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append(f.recs, r)
	return nil
}
func (f *fakeService) AuditQueued(ctx context.Context, r audit.Record) error { return f.Audit(ctx, r) }
func (f *fakeService) Headroom() error                                       { return nil }
func (f *fakeService) Resolve(c service.Caller) (authz.Principal, error) {
	return authz.Principal{Name: c.Name(), Door: c.Door}, nil
}
func (f *fakeService) Decide(_ context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error) {
	return authz.Decision{Allowed: true, Action: a, Principal: c.Name(), Target: t.Name}, nil
}
func (f *fakeService) Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC) {
	if _, ok := f.power[name]; !ok {
		return authz.Decision{Action: a, Reason: "unknown BMC"}, nil
	}
	return authz.Decision{Allowed: true, Action: a, Principal: c.Name(), Target: name}, &service.BMC{Name: name}
}
func (f *fakeService) Allowed(service.Caller, authz.Action) bool { return true }
func (f *fakeService) PowerAllowed(service.Caller, authz.Target) map[string]bool {
	return map[string]bool{"status": true, "cycle": true}
}
func (f *fakeService) ActionsAllowed(_ service.Caller, _ authz.Target, acts ...authz.Action) map[authz.Action]bool {
	out := map[authz.Action]bool{}
	for _, a := range acts {
		out[a] = true
	}
	return out
}
func (f *fakeService) HasMedia(*service.BMC) bool { return false }
func (f *fakeService) ImageNames() []string       { return nil }
func (f *fakeService) Lookup(_ service.Caller, name string) (*service.BMC, bool) {
	if _, ok := f.power[name]; !ok {
		return nil, false
	}
	return &service.BMC{Name: name}, true
}
func (f *fakeService) Whoami(_ context.Context, c service.Caller) (service.WhoamiView, error) {
	return service.WhoamiView{User: c.Name(), Door: c.Door, Auth: c.Auth, Session: c.Session}, nil
}
func (f *fakeService) List(_ context.Context, _ service.Caller, sels []string) ([]service.ListEntry, error) {
	f.called("list " + strings.Join(sels, " "))
	var out []service.ListEntry
	for _, n := range f.names() {
		out = append(out, service.ListEntry{Name: n, Actions: []string{"power.status"}})
	}
	return out, nil
}
func (f *fakeService) Dashboard(context.Context, service.Caller, *service.PowerCache) ([]service.DashEntry, error) {
	var out []service.DashEntry
	for _, n := range f.names() {
		e := service.DashEntry{Name: n, Ops: []string{"cycle"}}
		if r := f.power[n]; r.OK {
			ps, _ := r.Value.(ipmi.PowerState)
			e.Power = &service.PowerEntry{State: ps, Health: "ok"}
		} else {
			e.Power = &service.PowerEntry{Health: "unreachable", Error: r.Message}
		}
		out = append(out, e)
	}
	return out, nil
}
func (f *fakeService) NewPowerCache(ttl time.Duration) *service.PowerCache {
	return (*service.Service)(nil).NewPowerCache(ttl) // the door only invalidates it
}
func (f *fakeService) Power(_ context.Context, _ service.Caller, sub string, sels []string, emit func(service.Result)) error {
	f.called("power " + sub + " " + strings.Join(sels, " "))
	for _, s := range sels {
		r, ok := f.power[s]
		if !ok {
			return f.unknown(s)
		}
		if sub != "status" && r.OK {
			r.Value = nil
		}
		emit(r)
	}
	return nil
}
func (f *fakeService) Info(_ context.Context, _ service.Caller, name string) (service.Result, error) {
	f.called("info " + name)
	if _, ok := f.power[name]; !ok {
		return service.Result{}, f.unknown(name)
	}
	return service.Result{BMC: name, OK: true, Value: service.InfoView{Name: name, Address: "192.0.2.1:623", Protocol: "ipmi"}}, nil
}
func (f *fakeService) Sensors(_ context.Context, _ service.Caller, name string) (service.Result, error) {
	return service.Result{BMC: name, OK: true}, nil
}
func (f *fakeService) SEL(_ context.Context, _ service.Caller, name string, limit int) (service.Result, error) {
	f.called("sel " + name)
	return service.Result{BMC: name, OK: true}, nil
}
func (f *fakeService) ClearSEL(_ context.Context, _ service.Caller, name string) (service.Result, error) {
	f.called("sel clear " + name)
	return service.Result{BMC: name, OK: true}, nil
}
func (f *fakeService) Boot(context.Context, service.Caller, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) SetBoot(context.Context, service.Caller, service.BootRequest, []string, func(service.Result)) error {
	return nil
}
func (f *fakeService) Media(context.Context, service.Caller, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) InsertMedia(context.Context, service.Caller, string, string, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) EjectMedia(context.Context, service.Caller, string, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) AuditSearchPage(context.Context, service.Caller, audit.Query, func(audit.Record) error) (audit.Page, error) {
	return audit.Page{}, nil
}
func (f *fakeService) OwnEvents(context.Context, service.Caller, int) ([]audit.Record, error) {
	return nil, nil
}
func (f *fakeService) IssueCredential(context.Context, service.Caller, service.CredentialRequest) (service.CredentialView, string, error) {
	return service.CredentialView{}, "", service.ErrNoCredentials
}
func (f *fakeService) ListCredentials(context.Context, service.Caller) ([]service.CredentialView, error) {
	return nil, service.ErrNoCredentials
}
func (f *fakeService) RevokeCredential(context.Context, service.Caller, string) (service.CredentialView, error) {
	return service.CredentialView{}, service.ErrNoCredentials
}

var _ Service = (*fakeService)(nil)

func (f *fakeService) Sessions(context.Context, service.Caller) ([]service.LiveSession, error) {
	f.called("sessions")
	return nil, nil
}

func (f *fakeService) Terminate(context.Context, service.Caller, string, string) error {
	f.called("terminate")
	return nil
}
