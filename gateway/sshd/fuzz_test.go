package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	gossh "golang.org/x/crypto/ssh"
)

// fuzzLines are command lines the SSH door's fuzz targets start from:
// every command, quoting, flags, selectors and limits.
var fuzzLines = []string{
	"", "help", "help power", "whoami --json", "list", "list rack=r1 'node0*' --json",
	"power status node01", "power on rack=r1,env=prod --json", "power cycle 'node*' node02",
	`power off "node 01"`, `power soft node\ 01`, "power reset -- --json", "power",
	"info node01", "sensors node02 --json", "sel list node01 --limit 5", "sel list node01 --limit=0",
	"sel clear node03", "audit search --user alice --since 2h --until 2026-11-24 --limit 10 --newest --json",
	"audit search --since 2026-11-24T10:00:00Z --code auth.login", "audit verify --json",
	"audit replay s1 --speed 2.5", "audit export s1 --format asciicast", "console node01 --takeover",
	"scan --last", "scan --fix --yes node01 --json", "scan --yes", "--json", "power --nope",
	"power status node01 --json --json", "sel list node01 --limit", "'unterminated", `trailing\`,
	"power status 'it''s'", "list \t rack=r1 ", "power status ｎｏｄｅ01", "power status node01\u200b",
	"list 'rack=r\u202e1'", "power status " + strings.Repeat("n ", 40),
}

// FuzzSplitWords: splitting never panics, respects its bounds, keeps only
// allowed characters, and a line built by quoting the words splits back to
// the same words.
func FuzzSplitWords(f *testing.F) {
	for _, s := range fuzzLines {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := splitWords(line)
		if err != nil {
			if words != nil {
				t.Fatalf("splitWords(%q) returned words with error %v", line, err)
			}
			return
		}
		if len(words) > maxArgs {
			t.Fatalf("splitWords(%q): %d words", line, len(words))
		}
		n := 0
		for _, w := range words {
			n += len(w)
			if !utf8.ValidString(w) || strings.ContainsFunc(w, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
				t.Fatalf("splitWords(%q): word %q holds a control character", line, w)
			}
		}
		if n > len(line) {
			t.Fatalf("splitWords(%q): %d bytes of words from a %d-byte line", line, n, len(line))
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		q := strings.Join(quoted, " ")
		if len(q) > maxLineBytes {
			return
		}
		back, err := splitWords(q)
		if err != nil || !slices.Equal(back, words) {
			t.Fatalf("splitWords(%q) = %q; quoted as %q it splits to %q, %v", line, words, q, back, err)
		}
	})
}

// fuzzSpec returns the flag spec of the command a line names, or the
// audit command's (the one with the most flags).
func fuzzSpec(words []string) flagSpec {
	cmds := commandTable()
	if len(words) > 0 {
		if c, ok := cmds[words[0]]; ok {
			return c.flags
		}
	}
	return cmds["audit"].flags
}

// FuzzParseFlags: flags are known, boolean flags carry no value, and the
// parse is stable: writing the result out as --name[=value] -- args and
// parsing that gives the same flags and arguments.
func FuzzParseFlags(f *testing.F) {
	for _, s := range fuzzLines {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := splitWords(line)
		if err != nil || len(words) == 0 {
			return
		}
		spec := fuzzSpec(words)
		p, err := parseFlags(words[1:], spec)
		if err != nil {
			if p.flags != nil || p.args != nil {
				t.Fatalf("parseFlags(%q) returned a result with error %v", words[1:], err)
			}
			return
		}
		if len(p.args) > len(words)-1 {
			t.Fatalf("parseFlags(%q): more arguments than words", words[1:])
		}
		var canon []string
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range p.flags {
				if !yield(k) {
					return
				}
			}
		}) {
			takes, ok := spec[name]
			switch {
			case !ok:
				t.Fatalf("parseFlags(%q): unknown flag %q accepted", words[1:], name)
			case !takes && p.flags[name] != "":
				t.Fatalf("parseFlags(%q): boolean flag --%s has value %q", words[1:], name, p.flags[name])
			case takes:
				canon = append(canon, "--"+name+"="+p.flags[name])
			default:
				canon = append(canon, "--"+name)
			}
		}
		canon = append(canon, "--")
		canon = append(canon, p.args...)
		back, err := parseFlags(canon, spec)
		if err != nil || !reflect.DeepEqual(back.flags, p.flags) || !slices.Equal(back.args, p.args) {
			t.Fatalf("parseFlags(%q) = %v %q; written out as %q it parses to %v %q, %v",
				words[1:], p.flags, p.args, canon, back.flags, back.args, err)
		}
	})
}

// fuzzBroker answers every call at once and counts the calls.
type fuzzBroker struct{ calls atomic.Int64 }

func (b *fuzzBroker) PowerStatus(context.Context, ipmi.Endpoint) (ipmi.PowerState, error) {
	b.calls.Add(1)
	return "on", nil
}
func (b *fuzzBroker) Power(context.Context, ipmi.Endpoint, ipmi.PowerOp) error {
	b.calls.Add(1)
	return nil
}
func (b *fuzzBroker) DeviceInfo(context.Context, ipmi.Endpoint) (ipmi.DeviceInfo, error) {
	b.calls.Add(1)
	return ipmi.DeviceInfo{FirmwareVersion: "1.0\x1b[2J"}, nil
}
func (b *fuzzBroker) Sensors(context.Context, ipmi.Endpoint) ([]ipmi.Sensor, error) {
	b.calls.Add(1)
	return []ipmi.Sensor{{Name: "CPU\u202e"}}, nil
}
func (b *fuzzBroker) SEL(context.Context, ipmi.Endpoint, int) ([]ipmi.SELEntry, error) {
	b.calls.Add(1)
	return nil, nil
}
func (b *fuzzBroker) ClearSEL(context.Context, ipmi.Endpoint) error {
	b.calls.Add(1)
	return nil
}
func (b *fuzzBroker) Boot(context.Context, ipmi.Endpoint) (ipmi.BootOverride, error) {
	b.calls.Add(1)
	return ipmi.BootOverride{Target: "disk\x1b[2J", Enabled: ipmi.BootOnce}, nil
}
func (b *fuzzBroker) SetBoot(context.Context, ipmi.Endpoint, ipmi.BootSet) error {
	b.calls.Add(1)
	return nil
}

// fuzzAudit keeps the codes of the records appended.
type fuzzAudit struct {
	mu    sync.Mutex
	codes []string
}

func (a *fuzzAudit) Append(_ context.Context, r audit.Record) (audit.Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.codes = append(a.codes, r.Code)
	return r, nil
}
func (a *fuzzAudit) Search(context.Context, audit.Query, func(audit.Record) error) error { return nil }
func (a *fuzzAudit) SearchPage(context.Context, audit.Query, func(audit.Record) error) (audit.Page, error) {
	return audit.Page{}, nil
}
func (a *fuzzAudit) Verify(context.Context) (audit.VerifyReport, error) {
	return audit.VerifyReport{OK: true, Records: 1}, nil
}

// newFuzzServer returns an SSH door over three BMCs with an in-memory
// broker and audit log; the caller may do anything on rack r1 and read
// the audit log.
func newFuzzServer(tb testing.TB) (*Server, *fuzzBroker, *fuzzAudit, service.Caller) {
	tb.Helper()
	all := func(s string) []authz.ActionPattern {
		p, err := authz.ParseActionPattern(s)
		if err != nil {
			tb.Fatal(err)
		}
		return []authz.ActionPattern{p}
	}
	sel, err := authz.ParseSelector("rack=r1")
	if err != nil {
		tb.Fatal(err)
	}
	star, _ := authz.ParseSelector("*")
	policy, err := authz.NewPolicy([]authz.Role{{Name: "ops", Rules: []authz.Rule{
		{Effect: authz.Allow, Actions: all("*"), BMCs: []authz.Selector{sel}},
		{Effect: authz.Allow, Actions: all("bmc.list"), BMCs: []authz.Selector{star}},
		{Effect: authz.Allow, Actions: all("audit.read"), BMCs: []authz.Selector{star}},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	var bmcs []*service.BMC
	for i, rack := range []string{"r1", "r1", "r2"} {
		name := []string{"node01", "node02", "node03"}[i]
		bmcs = append(bmcs, &service.BMC{Name: name, Address: "127.0.0.1:623", Labels: map[string]string{"rack": rack},
			Endpoint: ipmi.Endpoint{Name: name, Host: "127.0.0.1", Port: 623}})
	}
	inv, err := service.NewInventory(bmcs)
	if err != nil {
		tb.Fatal(err)
	}
	b, a := &fuzzBroker{}, &fuzzAudit{}
	discard := slog.New(slog.DiscardHandler)
	accts := service.NewAccounts([]service.Account{{Name: "alice", Roles: []string{"ops"}}}, nil, nil)
	svc := service.New(&service.State{Policy: policy, Inventory: inv, Accounts: accts}, service.IPMITransport{Broker: b}, a, discard)
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Config{HostSigners: []gossh.Signer{signer}, Logger: discard}, svc, NewDirectory(nil, nil))
	if err != nil {
		tb.Fatal(err)
	}
	c := service.Caller{Identity: service.Identity{Name: "alice", Source: service.SourceUser},
		Door: audit.DoorSSH, Source: "127.0.0.1:5555", Session: "s1", Auth: "publickey"}
	return s, b, a, c
}

// FuzzCommandLine runs typed lines through the whole command path (split,
// flags, selectors, times, limits, policy) against an in-memory service.
// Whatever is typed, the exit status is a documented one, the output is
// terminal-safe, every line is audited exactly once as cmd.run, and a
// usage error never reaches a BMC.
func FuzzCommandLine(f *testing.F) {
	for _, s := range fuzzLines {
		f.Add(s)
	}
	s, b, a, c := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, line string) {
		var out, errw bytes.Buffer
		calls := b.calls.Load()
		a.mu.Lock()
		a.codes = a.codes[:0]
		a.mu.Unlock()
		e := &env{ctx: t.Context(), srv: s, caller: c, out: &out, errw: &errw}
		code := s.execLine(e, line)
		switch code {
		case exitOK, exitFailed, exitUsage, exitRefused, exitCritical:
		default:
			t.Fatalf("%q: exit status %d", line, code)
		}
		if code == exitUsage && b.calls.Load() != calls {
			t.Fatalf("%q: usage error (%q) after %d BMC calls", line, errw.String(), b.calls.Load()-calls)
		}
		for _, o := range []struct {
			name string
			b    *bytes.Buffer
		}{{"stdout", &out}, {"stderr", &errw}} {
			if !utf8.Valid(o.b.Bytes()) {
				t.Fatalf("%q: %s is not UTF-8: %q", line, o.name, o.b.String())
			}
			if i := strings.IndexFunc(o.b.String(), terminalUnsafe); i >= 0 {
				t.Fatalf("%q: %s holds a raw control or format character at %d: %q", line, o.name, i, o.b.String())
			}
		}
		a.mu.Lock()
		runs := 0
		for _, code := range a.codes {
			if code == audit.CodeCmdRun {
				runs++
			}
		}
		a.mu.Unlock()
		if runs != 1 {
			t.Fatalf("%q: %d cmd.run records", line, runs)
		}
	})
}
