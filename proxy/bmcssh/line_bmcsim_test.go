package bmcssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/sol"
)

// simPeer is a simulated BMC with its SSH console service.
type simPeer struct {
	bmc *bmcsim.BMC
	ssh *bmcsim.SSHConsole
}

// startSimSSH starts a simulated BMC (with SOL) and its SSH console
// service of the flavor; mutate adjusts the SSH options.
func startSimSSH(t testing.TB, flavor string, mutate func(*bmcsim.SSHOptions)) *simPeer {
	t.Helper()
	b, err := bmcsim.Start(t.Context(), "sim-"+flavor, bmcsim.Options{Username: "admin", Password: "ipmi-pass", SOL: true, Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	o := bmcsim.SSHOptions{Flavor: flavor, Password: testPassword}
	if mutate != nil {
		mutate(&o)
	}
	s, err := b.StartSSH(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &simPeer{bmc: b, ssh: s}
}

// target is the line target for the simulated BMC with the built-in
// profile of the same name as the flavor.
func (p *simPeer) target(t testing.TB, flavor string) Target {
	t.Helper()
	prof, ok := Builtin(flavor)
	if !ok {
		t.Fatalf("no built-in profile %s", flavor)
	}
	return Target{Name: "sim-" + flavor, Addr: p.ssh.Addr(), HostKey: pin(t, p.ssh.HostKey()),
		User: "admin", Password: testPassword, Profile: prof}
}

// simWait waits for cond, re-checked whenever changed fires.
func simWait(t testing.TB, what string, changed func() <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		ch := changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// openLine opens a line for tg with the watcher's callbacks; the line is
// closed at the end of the test.
func openLine(t testing.TB, tg Target, o Options) (*Line, *watcher) {
	t.Helper()
	w := newWatcher()
	l := Open(tg, w.options(o))
	t.Cleanup(l.Close)
	return l, w
}

// TestSimProfiles runs each built-in profile's steps against the
// simulator's flavor of the vendor command line: attach, echo round trip,
// break, clean detach on close.
func TestSimProfiles(t *testing.T) {
	for _, flavor := range BuiltinNames() {
		t.Run(flavor, func(t *testing.T) {
			p := startSimSSH(t, flavor, nil)
			leaks := goroutines(t)
			log, logs := debugLogger()
			l, w := openLine(t, p.target(t, flavor), fastOptions(log))
			w.status(t, 0, StateActive, 0)
			pos := w.output(t, 0, "sim-"+flavor+" login: ")
			if _, err := l.Write([]byte("root\r")); err != nil {
				t.Fatal(err)
			}
			w.output(t, pos, "root\r\n")
			if got := p.bmc.ConsoleReceived(); !bytes.Contains(got, []byte("root\r")) {
				t.Fatalf("the host received %q", got)
			}
			// The command line's own output is not console output.
			w.mu.Lock()
			out := string(w.out)
			w.mu.Unlock()
			for _, cli := range []string{"racadm>>", "hpiLO->", "/system1/sol1"} {
				if strings.Contains(out, cli) {
					t.Errorf("console output shows the BMC's command line %q: %q", cli, out)
				}
			}
			l.Break()
			simWait(t, "break", p.bmc.ConsoleChanged, func() bool { return p.bmc.Breaks() == 1 })
			l.Close()
			if prof, _ := Builtin(flavor); prof.Detach != "" {
				simWait(t, "detach", p.ssh.Changed, func() bool { return p.ssh.Detaches() == 1 })
			}
			simWait(t, "session end", p.ssh.Changed, func() bool { return p.ssh.Attached() == 0 })
			if l.State() != StateClosed {
				t.Fatalf("state after close %v", l.State())
			}
			if _, err := l.Write([]byte("x")); !errors.Is(err, ErrClosed) {
				t.Fatalf("write after close: %v", err)
			}
			leaks()
			noSecrets(t, "log", logs.String())
			noSecrets(t, "statuses", w.texts())
		})
	}
}

// TestSimSharedHost: what is typed through the SSH console is echoed on the
// same host's SOL console, and the other way round.
func TestSimSharedHost(t *testing.T) {
	p := startSimSSH(t, "openbmc", nil)
	l, w := openLine(t, p.target(t, "openbmc"), fastOptions(nil))
	w.status(t, 0, StateActive, 0)
	w.output(t, 0, "login: ")

	host, port, _ := net.SplitHostPort(p.bmc.Addr())
	var portN int
	fmt.Sscan(port, &portN)
	sw := newWatcher()
	solLine := sol.Open(ipmi.Endpoint{Name: "sim", Host: host, Port: portN, Username: "admin", Password: "ipmi-pass", CipherSuite: 3},
		sol.Options{OnOutput: func(b []byte) {
			sw.mu.Lock()
			sw.out = append(sw.out, b...)
			sw.signalLocked()
			sw.mu.Unlock()
		}, OnStatus: func(sol.Status) {
			sw.mu.Lock()
			sw.signalLocked()
			sw.mu.Unlock()
		}})
	defer solLine.Close()
	sw.output(t, 0, "login: ")
	sw.until(t, "SOL active", func() bool { return solLine.State() == sol.StateActive })
	if _, err := solLine.Write([]byte("from-sol\r")); err != nil {
		t.Fatal(err)
	}
	w.output(t, 0, "from-sol\r\n")
	if _, err := l.Write([]byte("from-ssh\r")); err != nil {
		t.Fatal(err)
	}
	sw.output(t, 0, "from-ssh\r\n")
}

// TestSimDetachSequenceRefused: input that would complete the profile's
// detach sequence never reaches the BMC, even split over writes; the
// console stays attached.
func TestSimDetachSequenceRefused(t *testing.T) {
	for _, flavor := range []string{"idrac", "ilo", "supermicro"} {
		t.Run(flavor, func(t *testing.T) {
			p := startSimSSH(t, flavor, nil)
			tg := p.target(t, flavor)
			l, w := openLine(t, tg, fastOptions(nil))
			w.status(t, 0, StateActive, 0)
			pos := w.output(t, 0, "login: ")
			seq := tg.Profile.Detach
			n, err := l.Write([]byte("ab" + seq + "cd"))
			if n != 2+len(seq)-1 || !errors.Is(err, ErrDetachSequence) {
				t.Fatalf("Write = %d, %v; want %d, ErrDetachSequence", n, err, 2+len(seq)-1)
			}
			if len(seq) > 1 { // split: the first bytes, then the last
				if _, err := l.Write([]byte(seq[:len(seq)-1])); err != nil {
					t.Fatal(err)
				}
				if n, err := l.Write([]byte(seq[len(seq)-1:] + "x")); n != 0 || !errors.Is(err, ErrDetachSequence) {
					t.Fatalf("split sequence: Write = %d, %v", n, err)
				}
			}
			if _, err := l.Write([]byte("still-here\r")); err != nil {
				t.Fatal(err)
			}
			w.output(t, pos, "still-here\r\n")
			if d := p.ssh.Detaches(); d != 0 {
				t.Fatalf("the BMC left the console %d times", d)
			}
			if got := p.bmc.ConsoleReceived(); bytes.Contains(got, []byte(seq)) {
				t.Fatalf("the host received the detach sequence: %q", got)
			}
		})
	}
}

// TestSimBusy: a console another client holds is reported busy and
// attached once it is free.
func TestSimBusy(t *testing.T) {
	for _, flavor := range []string{"idrac", "ilo", "supermicro"} {
		t.Run(flavor, func(t *testing.T) {
			p := startSimSSH(t, flavor, nil)
			p.ssh.SetBusy(true)
			_, w := openLine(t, p.target(t, flavor), fastOptions(nil))
			st, n := w.status(t, 0, StateBusy, KindBusy)
			if !strings.Contains(st.Msg, "in use") {
				t.Errorf("busy message %q", st.Msg)
			}
			p.ssh.SetBusy(false)
			w.status(t, n, StateActive, 0)
		})
	}
}

// TestSimEndedAndDropped: a console the BMC ends (its command line comes
// back) and a cut connection are both noticed and attached again.
func TestSimEndedAndDropped(t *testing.T) {
	for _, flavor := range []string{"idrac", "ilo", "supermicro"} {
		t.Run(flavor, func(t *testing.T) {
			p := startSimSSH(t, flavor, nil)
			leaks := goroutines(t)
			l, w := openLine(t, p.target(t, flavor), fastOptions(nil))
			_, n := w.status(t, 0, StateActive, 0)

			p.ssh.EndConsoles()
			st, n := w.status(t, n, StateDropped, KindEnded)
			if !strings.Contains(st.Msg, "command line came back") {
				t.Errorf("ended message %q", st.Msg)
			}
			_, n = w.status(t, n, StateActive, 0)

			p.ssh.DropConnections()
			_, n = w.status(t, n, StateDropped, KindLost)
			_, _ = w.status(t, n, StateActive, 0)
			l.Close()
			leaks()
		})
	}
}

// TestSimKeepAliveLoss: a BMC that stops answering keep-alives is lost
// within the keep-alive timeout, and attached again once it answers.
func TestSimKeepAliveLoss(t *testing.T) {
	p := startSimSSH(t, "openbmc", nil)
	o := fastOptions(nil)
	o.KeepAlive, o.KeepAliveTimeout = 50*time.Millisecond, 300*time.Millisecond
	_, w := openLine(t, p.target(t, "openbmc"), o)
	_, n := w.status(t, 0, StateActive, 0)
	p.ssh.Stall(true)
	st, n := w.status(t, n, StateDropped, KindLost)
	if !strings.Contains(st.Msg, "keep-alive") {
		t.Errorf("loss message %q", st.Msg)
	}
	p.ssh.Stall(false)
	w.status(t, n, StateActive, 0)
}

// TestSimRefusals: unknown or changed host keys, wrong credentials and
// weak-only algorithms are refused with their kinds; no credential shows
// anywhere, and a wrong password is tried once per connection.
func TestSimRefusals(t *testing.T) {
	other, _ := newKey(t)
	cases := []struct {
		name   string
		mutate func(*bmcsim.SSHOptions)
		target func(*Target)
		kind   Kind
		logins int // failed logins the BMC saw on the first connection
	}{
		{name: "unpinned", target: func(tg *Target) { tg.HostKey = HostKey{} }, kind: KindHostKey},
		{name: "changed-key", target: func(tg *Target) { tg.HostKey = pin(t, other.PublicKey()) }, kind: KindHostKey},
		{name: "wrong-password", target: func(tg *Target) { tg.Password = "not-the-" + testPassword }, kind: KindAuth, logins: 1},
		{name: "wrong-password-kbdint", mutate: func(o *bmcsim.SSHOptions) { o.KeyboardInteractive = true },
			target: func(tg *Target) { tg.Password = "not-the-" + testPassword }, kind: KindAuth, logins: 1},
		{name: "sha1-only", mutate: func(o *bmcsim.SSHOptions) { o.LegacyAlgorithms = true }, kind: KindAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startSimSSH(t, "openbmc", c.mutate)
			tg := p.target(t, "openbmc")
			if c.target != nil {
				c.target(&tg)
			}
			log, logs := debugLogger()
			o := fastOptions(log)
			o.RefusedRetry = time.Hour
			l, w := openLine(t, tg, o)
			st, _ := w.status(t, 0, StateRefused, c.kind)
			if KindOf(st.Err) != c.kind {
				t.Fatalf("status error kind %v, want %v", KindOf(st.Err), c.kind)
			}
			if c.kind == KindHostKey {
				var e *Error
				if !errors.As(st.Err, &e) || e.Fingerprint != pin(t, p.ssh.HostKey()).Fingerprint() {
					t.Fatalf("host key refusal does not name the presented key: %v", st.Err)
				}
				if ok, failed := p.ssh.Logins(); ok+failed != 0 {
					t.Fatalf("credentials were sent to a BMC with an unpinned key (%d, %d)", ok, failed)
				}
			}
			if ok, failed := p.ssh.Logins(); c.kind == KindAuth && (ok != 0 || failed != c.logins) {
				t.Fatalf("logins ok %d failed %d, want 0 and %d", ok, failed, c.logins)
			}
			if _, err := l.Write([]byte("x")); !errors.Is(err, ErrNotConnected) {
				t.Fatalf("write on a refused line: %v", err)
			}
			l.Close()
			noSecrets(t, "log", logs.String())
			noSecrets(t, "statuses", w.texts())
		})
	}
}

// TestSimStepBounds: a BMC streaming output without the expected prompt
// fails the step by its output bound, or by its timeout.
func TestSimStepBounds(t *testing.T) {
	p := startSimSSH(t, "idrac", func(o *bmcsim.SSHOptions) { o.Garbage = true })
	tg := p.target(t, "idrac")
	for _, c := range []struct {
		name    string
		opts    func(*Options)
		message string
	}{
		{"bytes", func(o *Options) { o.MaxStepOutput = 16 << 10 }, "within 16384 bytes"},
		{"timeout", func(o *Options) { o.MaxStepOutput = 1 << 40; o.StepTimeout = 300 * time.Millisecond }, "within 300ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			leaks := goroutines(t)
			o := fastOptions(nil)
			c.opts(&o)
			start := time.Now()
			l, w := openLine(t, tg, o)
			st, _ := w.status(t, 0, StateDropped, KindStep)
			if !strings.Contains(st.Msg, c.message) {
				t.Fatalf("step failure %q, want %q", st.Msg, c.message)
			}
			t.Logf("failed after %v: %s", time.Since(start), st.Msg)
			l.Close()
			leaks()
		})
	}
}

// TestSimFetchHostKey: the pin function gets the key without logging in.
func TestSimFetchHostKey(t *testing.T) {
	p := startSimSSH(t, "openbmc", nil)
	hk, err := FetchHostKey(t.Context(), p.ssh.Addr(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hk.Equal(p.ssh.HostKey()) {
		t.Fatalf("fetched %s", hk)
	}
	back, err := ParseHostKey(hk.String())
	if err != nil || !back.Equal(p.ssh.HostKey()) {
		t.Fatalf("the pin line %q does not parse back: %v", hk, err)
	}
	if ok, failed := p.ssh.Logins(); ok+failed != 0 {
		t.Fatalf("FetchHostKey logged in (%d, %d)", ok, failed)
	}
}

// TestSimPublicKeyLogin: a key login, the password unset.
func TestSimPublicKeyLogin(t *testing.T) {
	key, priv := newKey(t)
	p := startSimSSH(t, "supermicro", func(o *bmcsim.SSHOptions) {
		o.Password = ""
		o.AuthorizedKeys = append(o.AuthorizedKeys, key.PublicKey())
	})
	tg := p.target(t, "supermicro")
	tg.Password, tg.Key = "", key
	log, logs := debugLogger()
	l, w := openLine(t, tg, fastOptions(log))
	w.status(t, 0, StateActive, 0)
	w.output(t, 0, "login: ")
	l.Close()
	noSecrets(t, "log", logs.String(), keySecrets(priv)...)
	noSecrets(t, "target", fmt.Sprintf("%v %+v %#v %s", tg, tg, tg, tg), keySecrets(priv)...)
}

// TestSimCustomProfile: an operator-defined profile in the same step
// format, and a step whose text never comes failing by its own timeout.
func TestSimCustomProfile(t *testing.T) {
	p := startSimSSH(t, "supermicro", nil)
	tg := p.target(t, "supermicro")
	tg.Profile = Profile{Name: "lab-smc", Steps: []Step{
		{Expect: `-> $`, Timeout: 5 * time.Second},
		{Send: "cd /system1/sol1", Expect: `-> $`},
		{Send: "start", Expect: `terminate session`},
	}, Detach: "\r\x1bT"}
	l, w := openLine(t, tg, fastOptions(nil))
	w.status(t, 0, StateActive, 0)
	w.output(t, 0, "login: ")
	l.Close()
	simWait(t, "detach", p.ssh.Changed, func() bool { return p.ssh.Detaches() == 1 })

	tg.Profile.Steps[1] = Step{Send: "cd /system1/sol9", Expect: `sol9-> $`, Timeout: 200 * time.Millisecond}
	_, w = openLine(t, tg, fastOptions(nil))
	st, _ := w.status(t, 0, StateDropped, KindStep)
	if !strings.Contains(st.Msg, "profile lab-smc, step 2") || !strings.Contains(st.Msg, "within 200ms") {
		t.Fatalf("step failure %q", st.Msg)
	}
}
