package bmcssh

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestDetachFilter(t *testing.T) {
	cases := []struct {
		seq    string
		writes []string
		want   []int // bytes let through per write
	}{
		{"\x1c", []string{"abc", "d\x1ce", "\x1c"}, []int{3, 1, 0}},
		{"\x1b(", []string{"ab\x1b(cd"}, []int{3}},
		{"\x1b(", []string{"ab\x1b", "(x"}, []int{3, 0}},
		{"\x1b(", []string{"\x1b[A\x1b[B", "(("}, []int{6, 2}}, // arrows are fine
		{"\r\x1bT", []string{"ls\r", "\x1b", "T"}, []int{3, 1, 0}},
		{"\r\x1bT", []string{"\r\x1b", "x\r\x1bT"}, []int{2, 3}},
		{"", []string{"\x1c\x1b(\r\x1bT"}, []int{6}},
	}
	for _, c := range cases {
		f := detachFilter{seq: []byte(c.seq)}
		var sent []byte
		for i, w := range c.writes {
			n := f.allow([]byte(w))
			if n != c.want[i] {
				t.Errorf("seq %q, writes %q: write %d let %d through, want %d", c.seq, c.writes, i, n, c.want[i])
			}
			sent = append(sent, w[:n]...)
		}
		if c.seq != "" && strings.Contains(string(sent), c.seq) {
			t.Errorf("seq %q: the sent stream %q holds it", c.seq, sent)
		}
	}
}

func TestProfileValidate(t *testing.T) {
	base := Profile{Name: "mine", Port: 22, Steps: []Step{{Expect: `-> $`}, {Send: "start", Expect: "ok"}}, Detach: "\x1b("}
	cases := []struct {
		name   string
		mutate func(*Profile)
		want   string // "" : valid
	}{
		{"base", func(*Profile) {}, ""},
		{"no name", func(p *Profile) { p.Name = "" }, "name: empty"},
		{"bad name", func(p *Profile) { p.Name = "My Profile" }, "name:"},
		{"port", func(p *Profile) { p.Port = 70000 }, "port:"},
		{"empty step", func(p *Profile) { p.Steps = append(p.Steps, Step{}) }, "steps[2]: neither send nor expect"},
		{"bad regexp", func(p *Profile) { p.Steps[0].Expect = "(" }, "steps[0].expect: not a regular expression"},
		{"multi-line send", func(p *Profile) { p.Steps[1].Send = "a\rb" }, "steps[1].send: one line"},
		{"long send", func(p *Profile) { p.Steps[1].Send = strings.Repeat("x", 300) }, "steps[1].send: longer than"},
		{"timeout", func(p *Profile) { p.Steps[0].Timeout = time.Hour }, "steps[0].timeout:"},
		{"too many steps", func(p *Profile) { p.Steps = make([]Step, 17); p.Steps[0] = Step{Send: "x"} }, "steps: at most 16"},
		{"detach", func(p *Profile) { p.Detach = strings.Repeat("\x1b", 9) }, "detach:"},
		{"busy", func(p *Profile) { p.Busy = "[" }, "busy: not a regular expression"},
		{"ended", func(p *Profile) { p.Ended = strings.Repeat("a", 300) }, "ended: longer than"},
		{"command", func(p *Profile) { p.Command = "a\nb" }, "command:"},
	}
	for _, c := range cases {
		p := base
		p.Steps = append([]Step(nil), base.Steps...)
		c.mutate(&p)
		err := p.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	for _, n := range BuiltinNames() {
		p, _ := Builtin(n)
		if err := p.Validate(); err != nil {
			t.Errorf("built-in %s: %v", n, err)
		}
	}
	if _, ok := Builtin("nope"); ok {
		t.Error("unknown built-in found")
	}
}

func TestParseHostKey(t *testing.T) {
	ed, _ := newKey(t)
	edLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ed.PublicKey())))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub, _ := ssh.NewPublicKey(&ec.PublicKey)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakPub, _ := ssh.NewPublicKey(&weak.PublicKey)
	cases := []struct {
		line string
		want string // "" : accepted
	}{
		{edLine, ""},
		{edLine + " root@bmc", ""},
		{"  " + edLine + "\n", ""},
		{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ecPub))), ""},
		{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(weakPub))), "shorter than 2048"},
		{ssh.FingerprintSHA256(ed.PublicKey()), "a fingerprint is not enough"},
		{"", "empty"},
		{"ssh-ed25519 AAAA", "not a public key line"},
		{edLine + "\n" + edLine, "one key per line"},
	}
	for _, c := range cases {
		hk, err := ParseHostKey(c.line)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%.40q: %v", c.line, err)
		case c.want == "" && hk.String() != strings.Join(strings.Fields(c.line)[:2], " "):
			t.Errorf("%.40q: String %q", c.line, hk.String())
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%.40q: error %v, want %q", c.line, err, c.want)
		}
	}
	hk, _ := ParseHostKey(edLine)
	if !hk.Equal(ed.PublicKey()) || hk.Fingerprint() != ssh.FingerprintSHA256(ed.PublicKey()) || hk.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("parsed key %v", hk)
	}
	if got := hk.algorithms(); len(got) != 1 || got[0] != ssh.KeyAlgoED25519 {
		t.Errorf("host key algorithms for an ed25519 pin: %v", got)
	}
}

// TestOfferedAlgorithms: nothing weak is offered.
func TestOfferedAlgorithms(t *testing.T) {
	for kind, algs := range Offered() {
		for _, a := range algs {
			l := strings.ToLower(a)
			if strings.Contains(l, "sha1") || strings.Contains(l, "cbc") || strings.Contains(l, "arcfour") || strings.Contains(l, "rc4") ||
				a == ssh.KeyAlgoRSA || a == "ssh-dss" || strings.HasSuffix(l, "-96") || strings.Contains(l, "md5") {
				t.Errorf("%s %s offered", kind, a)
			}
		}
	}
}

// TestTargetHidesCredentials: a target printed or logged shows no password.
func TestTargetHidesCredentials(t *testing.T) {
	tg := Target{Name: "b1", Addr: "10.0.0.1", User: "root", Password: testPassword, Profile: builtins[ProfileILO]}
	log, logs := debugLogger()
	log.Info("target", "t", tg, "p", tg.Password)
	text := fmt.Sprintf("%v %+v %#v %s %q %v %#v", tg, tg, tg, tg, tg, tg.Password, tg.Password) + logs.String()
	noSecrets(t, "printed target", text)
	if !strings.Contains(text, "10.0.0.1:22") {
		t.Errorf("target text %q lacks the address", text)
	}
	if err := tg.Validate(); err != nil {
		t.Errorf("valid target: %v", err)
	}
	bad := Target{Addr: "[::1", Profile: Profile{Name: "x", Steps: []Step{{}}}}
	err := bad.Validate()
	for _, want := range []string{"addr:", "user: empty", "credentials:", "profile: steps[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("invalid target: %v, want %q", err, want)
		}
	}
	l := Open(bad, Options{})
	defer l.Close()
	if _, err := l.Write([]byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Errorf("write to an unusable target: %v", err)
	}
}

// TestWriteBounds: input beyond the buffer is refused, not held.
func TestWriteBounds(t *testing.T) {
	l := &Line{opts: Options{InputBuffer: 4}.withDefaults(), wake: make(chan struct{}, 1), state: StateActive}
	n, err := l.Write([]byte("abcdef"))
	if n != 4 || !errors.Is(err, ErrOverflow) {
		t.Fatalf("Write = %d, %v; want 4, ErrOverflow", n, err)
	}
	buf := make([]byte, 16)
	if got := buf[:l.peekInput(buf)]; string(got) != "abcd" {
		t.Fatalf("queued %q", got)
	}
	l.commitInput(2)
	if n, err := l.Write([]byte("xyz")); n != 2 || !errors.Is(err, ErrOverflow) {
		t.Fatalf("Write after commit = %d, %v", n, err)
	}
	var lost []byte
	l.opts.OnInputLost = func(p []byte, _ string) { lost = append(lost, p...) }
	l.loseInput("test")
	if string(lost) != "cdxy" || l.State() != StateDropped {
		t.Fatalf("lost %q, state %v", lost, l.State())
	}
	if _, err := l.Write([]byte("q")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("write after loss: %v", err)
	}
}
