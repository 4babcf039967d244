package bmcssh

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestSSHDConsole: attach through OpenSSH's sshd, echo round trip through
// the fake host's serial port, a serial break, a clean close; the client
// offers nothing weak (read from sshd's own record of the client's
// proposal) and no credential shows in the gateway's logs.
func TestSSHDConsole(t *testing.T) {
	p := startSSHD(t, "")
	leaks := goroutines(t)
	log, logs := debugLogger()
	o := fastOptions(log)
	l, w := openLine(t, p.target(t), o)
	w.status(t, 0, StateActive, 0)
	pos := w.output(t, 0, "booting host01\r\n")
	if _, err := l.Write([]byte("hello\r")); err != nil {
		t.Fatal(err)
	}
	w.output(t, pos, "hello\r\n")
	waitHostReceived(t, p.host, "hello\r")
	p.expectLog("Accepted publickey for " + p.user)

	l.Break()
	p.expectLog("req break")

	l.Close()
	leaks()
	sshdLog := p.log.String()
	checkClientProposal(t, sshdLog)
	noSecrets(t, "log", logs.String(), keySecrets(p.keyPriv)...)
	noSecrets(t, "statuses", w.texts(), keySecrets(p.keyPriv)...)
}

// checkClientProposal reads the client's algorithm lists from sshd's
// DEBUG2 record of the client's KEXINIT.
func checkClientProposal(t *testing.T, sshdLog string) {
	t.Helper()
	i := strings.Index(sshdLog, "peer client KEXINIT proposal")
	if i < 0 {
		t.Fatalf("sshd did not log the client's proposal:\n%s", sshdLog)
	}
	lines := strings.Split(sshdLog[i:], "\n")[1:]
	seen := map[string]string{}
	for _, ln := range lines[:min(len(lines), 12)] {
		_, rest, ok := strings.Cut(ln, "debug2: ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(rest), ": ")
		if ok {
			seen[k] = strings.TrimSuffix(v, " [preauth]")
		}
	}
	for _, k := range []string{"KEX algorithms", "host key algorithms", "ciphers ctos", "ciphers stoc", "MACs ctos", "MACs stoc"} {
		v, ok := seen[k]
		if !ok {
			t.Errorf("no %q in the client's proposal: %v", k, seen)
			continue
		}
		for _, a := range strings.Split(v, ",") {
			l := strings.ToLower(a)
			if strings.Contains(l, "sha1") || strings.Contains(l, "cbc") || strings.Contains(l, "arcfour") || a == "ssh-rsa" || a == "ssh-dss" {
				t.Errorf("the client offered %s (%s)", a, k)
			}
		}
	}
	if got := seen["host key algorithms"]; got != "ssh-ed25519" {
		t.Errorf("host key algorithms %q, want only the pinned key's type", got)
	}
}

// TestSSHDRefusals: a changed host key and a key sshd does not know are
// refused with their kinds; with the wrong host key no login is tried.
func TestSSHDRefusals(t *testing.T) {
	p := startSSHD(t, "")
	other, otherPriv := newKey(t)
	t.Run("host-key", func(t *testing.T) {
		tg := p.target(t)
		tg.HostKey = pin(t, other.PublicKey())
		o := fastOptions(nil)
		o.RefusedRetry = wait
		l, w := openLine(t, tg, o)
		st, _ := w.status(t, 0, StateRefused, KindHostKey)
		var e *Error
		if !errors.As(st.Err, &e) || e.Fingerprint != pin(t, p.hostKey).Fingerprint() {
			t.Fatalf("refusal %v does not name the presented key %s", st.Err, pin(t, p.hostKey).Fingerprint())
		}
		if !strings.Contains(st.Msg, e.Fingerprint) {
			t.Errorf("message %q", st.Msg)
		}
		l.Close()
		if strings.Contains(p.log.String(), "Accepted") || strings.Contains(p.log.String(), "userauth-request") {
			t.Errorf("a login was tried against a host with the wrong key:\n%s", p.log.String())
		}
	})
	t.Run("unknown-client-key", func(t *testing.T) {
		tg := p.target(t)
		tg.Key = other
		log, logs := debugLogger()
		o := fastOptions(log)
		o.RefusedRetry = wait
		_, w := openLine(t, tg, o)
		w.status(t, 0, StateRefused, KindAuth)
		noSecrets(t, "log", logs.String(), keySecrets(otherPriv)...)
		noSecrets(t, "statuses", w.texts(), keySecrets(otherPriv)...)
	})
}

// TestSSHDKilled: sshd and its sessions killed → the line reports the
// loss, and attaches again once an sshd is back (on another port).
func TestSSHDKilled(t *testing.T) {
	p := startSSHD(t, "")
	leaks := goroutines(t)
	o := fastOptions(nil)
	o.Dial = p.dial
	o.KeepAlive = wait // the loss is seen by the connection breaking, not by keep-alives
	l, w := openLine(t, p.target(t), o)
	_, n := w.status(t, 0, StateActive, 0)
	w.output(t, 0, "booting host01")

	p.kill()
	st, n := w.status(t, n, StateDropped, 0)
	if st.Kind != KindLost && st.Kind != KindEnded {
		t.Fatalf("loss reported as %v: %s", st.Kind, st.Msg)
	}
	if _, err := l.Write([]byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("write while lost: %v", err)
	}
	pos := w.outLen()
	p.start()
	_, _ = w.status(t, n, StateActive, 0)
	pos = w.output(t, pos, "booting host01\r\n") // socat has the PTY in raw mode
	if _, err := l.Write([]byte("again\r")); err != nil {
		t.Fatal(err)
	}
	w.output(t, pos, "again\r\n")
	if c := p.host.Connections(); c != 2 {
		t.Errorf("the host saw %d connections, want 2", c)
	}
	l.Close()
	leaks()
}

// TestSSHDWeakOnly: an sshd that offers only SHA-1 key exchange and MACs
// finds nothing in common with the line.
func TestSSHDWeakOnly(t *testing.T) {
	p := startSSHD(t, "KexAlgorithms diffie-hellman-group14-sha1\nMACs hmac-sha1\n")
	o := fastOptions(nil)
	o.RefusedRetry = wait
	_, w := openLine(t, p.target(t), o)
	st, _ := w.status(t, 0, StateRefused, KindAlgorithm)
	if !strings.Contains(st.Msg, "no algorithm") {
		t.Errorf("message %q", st.Msg)
	}
	p.expectLog("no matching")
}

// TestSSHDFetchHostKey: the pin function gets the key ssh-keyscan sees,
// without logging in.
func TestSSHDFetchHostKey(t *testing.T) {
	p := startSSHD(t, "")
	hk, err := FetchHostKey(t.Context(), p.Addr(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hk.Equal(p.hostKey) {
		t.Fatalf("fetched %s", hk)
	}
	host, port := splitAddr(t, p.Addr())
	out, err := exec.CommandContext(t.Context(), "ssh-keyscan", "-t", "ed25519", "-p", port, host).Output()
	if err != nil {
		t.Fatalf("ssh-keyscan: %v", err)
	}
	if !strings.Contains(string(out), hk.String()) {
		t.Fatalf("ssh-keyscan says %q, the pin line is %q", out, hk.String())
	}
	if strings.Contains(p.log.String(), "Accepted") {
		t.Error("FetchHostKey logged in")
	}
}
