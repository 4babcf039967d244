package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	gossh "golang.org/x/crypto/ssh"
)

// fakeService is the service layer as the SSH door sees it (Service):
// power answers from a table, everything else is empty, and every record
// the door writes is kept.
type fakeService struct {
	power map[string]service.Result // by BMC; absent BMCs are unknown

	mu    sync.Mutex
	recs  []audit.Record
	calls []string
}

func (f *fakeService) called(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeService) Audit(_ context.Context, r audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append(f.recs, r)
	return nil
}
func (f *fakeService) Headroom() error { return nil }
func (f *fakeService) Resolve(c service.Caller) (authz.Principal, error) {
	return authz.Principal{Name: c.Name()}, nil
}
func (f *fakeService) Whoami(_ context.Context, c service.Caller) (service.WhoamiView, error) {
	return service.WhoamiView{User: c.Name(), Door: c.Door}, nil
}
func (f *fakeService) List(context.Context, service.Caller, []string) ([]service.ListEntry, error) {
	return nil, nil
}
func (f *fakeService) Power(_ context.Context, _ service.Caller, sub string, sels []string, emit func(service.Result)) error {
	f.called("power " + sub + " " + strings.Join(sels, " "))
	for _, s := range sels {
		r, ok := f.power[s]
		if !ok {
			return &service.UserError{Msg: s + ": unknown BMC", Err: service.ErrUnknownBMC}
		}
		emit(r)
	}
	return nil
}
func (f *fakeService) Info(context.Context, service.Caller, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) Sensors(context.Context, service.Caller, string) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) SEL(context.Context, service.Caller, string, int) (service.Result, error) {
	return service.Result{}, nil
}
func (f *fakeService) ClearSEL(context.Context, service.Caller, string) (service.Result, error) {
	return service.Result{}, nil
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
func (f *fakeService) AuditSearch(context.Context, service.Caller, audit.Query, func(audit.Record) error) error {
	return nil
}
func (f *fakeService) AuditSearchPage(context.Context, service.Caller, audit.Query, func(audit.Record) error) (audit.Page, error) {
	return audit.Page{}, nil
}
func (f *fakeService) AuditVerify(context.Context, service.Caller) (audit.VerifyReport, error) {
	return audit.VerifyReport{OK: true}, nil
}
func (f *fakeService) Scan(context.Context, service.Caller, []string, func(service.Result)) error {
	return nil
}
func (f *fakeService) ScanFix(context.Context, service.Caller, []string, bool, func(service.Result)) error {
	return nil
}
func (f *fakeService) ScanLast(context.Context, service.Caller, []string, func(service.Result)) error {
	return nil
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

// TestDoorOverFakeService runs command lines through the SSH door against
// a fake service: what the service answers is rendered one line per BMC,
// successes on stdout and failures on stderr, with the documented exit
// statuses, and the door records every command line once.
func TestDoorOverFakeService(t *testing.T) {
	f := &fakeService{power: map[string]service.Result{
		"node01": {BMC: "node01", OK: true, Value: service.PowerState("on")},
		"node02": {BMC: "node02", Denied: true, Message: `no rule of role(s) "viewer" allows power.status on node02`},
		"node03": {BMC: "node03", Message: "the BMC did not answer in time"},
	}}
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{HostSigners: []gossh.Signer{signer}, Logger: slog.New(slog.DiscardHandler)}, f, NewDirectory(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	c := service.Caller{Identity: service.Identity{Name: "alice", Source: service.SourceUser},
		Door: audit.DoorSSH, Source: "127.0.0.1:5555", Session: "s1", Auth: "publickey"}
	for _, tt := range []struct {
		line       string
		code       int
		out, errw  []string
		noOut      bool
		wantCalled string
	}{
		{line: "power status node01", code: exitOK, out: []string{"node01", "power on"}, wantCalled: "power status node01"},
		{line: "power status node01 node02 node03", code: exitFailed, out: []string{"node01"},
			errw: []string{"node02", "denied: no rule", "node03", "error: the BMC did not answer in time"}},
		{line: "power status node99", code: exitFailed, errw: []string{"node99: unknown BMC"}, noOut: true},
		{line: "power explode node01", code: exitUsage, noOut: true},
		{line: "whoami", code: exitOK, out: []string{"alice"}},
	} {
		t.Run(tt.line, func(t *testing.T) {
			var out, errw bytes.Buffer
			f.mu.Lock()
			f.recs, f.calls = nil, nil
			f.mu.Unlock()
			code := s.execLine(&env{ctx: t.Context(), srv: s, caller: c, out: &out, errw: &errw}, tt.line)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errw.String())
			}
			for _, w := range tt.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout %q lacks %q", out.String(), w)
				}
			}
			for _, w := range tt.errw {
				if !strings.Contains(errw.String(), w) {
					t.Errorf("stderr %q lacks %q", errw.String(), w)
				}
			}
			if tt.noOut && out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if tt.wantCalled != "" && (len(f.calls) != 1 || f.calls[0] != tt.wantCalled) {
				t.Errorf("service calls %q", f.calls)
			}
			runs := 0
			for _, r := range f.recs {
				if r.Code == audit.CodeCmdRun {
					runs++
				}
			}
			if runs != 1 {
				t.Errorf("%d cmd.run records, want 1", runs)
			}
		})
	}
}

func (f *fakeService) Sessions(context.Context, service.Caller) ([]service.LiveSession, error) {
	f.called("sessions")
	return nil, nil
}

func (f *fakeService) Terminate(context.Context, service.Caller, string, string) error {
	f.called("terminate")
	return nil
}
