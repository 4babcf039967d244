package bmcssh

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Profile says how to get from a login on a BMC's SSH service to the
// host's serial console, and how to leave it. Built-in profiles come from
// Builtin; operators define others in the same format.
type Profile struct {
	Name string
	Port int // the SSH service's port when the target's address has none (default 22)
	// Command, when set, is run (an SSH "exec" request) instead of a login
	// shell.
	Command string
	// Steps run in order once the shell or command has started; when the
	// last has passed, the console is attached.
	Steps []Step
	// Busy, a regular expression (Go RE2 syntax), is matched against the
	// output read by the steps: a match means another client holds the
	// console (StateBusy).
	Busy string
	// Detach is the byte sequence with which the BMC leaves the console for
	// its command line. Close sends it; input that would complete it is
	// refused (ErrDetachSequence), since the command line runs with the
	// gateway's BMC account.
	Detach string
	// Ended, a regular expression, is matched against the end of the
	// console's output (the last 256 bytes): a match means the BMC's
	// command line is back (the console ended on the BMC's side), and the
	// line drops the connection and attaches again.
	Ended string
}

// Step is one step of a profile: send a line, then wait for text.
type Step struct {
	// Send is a line sent to the BMC, followed by a carriage return (as
	// typed). Empty: nothing is sent.
	Send string
	// Expect, a regular expression (Go RE2 syntax), must match the output
	// read since the line was sent (at most the last 512 bytes are kept
	// for matching) before the next step. Empty: no wait.
	Expect string
	// Timeout bounds the wait (default Options.StepTimeout).
	Timeout time.Duration
}

// Limits of a profile.
const (
	MaxSteps       = 16
	maxSendLen     = 256
	maxPatternLen  = 256
	maxDetachLen   = 8
	maxCommandLen  = 256
	maxStepTimeout = 5 * time.Minute
	minStepTimeout = 100 * time.Millisecond
	expectWindow   = 512 // bytes kept for matching a step's Expect
	endedWindow    = 256 // bytes of console output matched against Ended
)

// Builtin profile names.
const (
	ProfileOpenBMC    = "openbmc"
	ProfileIDRAC      = "idrac"
	ProfileILO        = "ilo"
	ProfileSupermicro = "supermicro"
)

// builtins are modelled on the vendors' documentation of their SSH
// command lines; only the OpenBMC one is exercised against a real SSH
// server in bmcgate's tests (OpenSSH's sshd), the others against the
// simulator in internal/sim/bmcsim.
var builtins = map[string]Profile{
	// OpenBMC's obmc-console serves the host console on its own SSH port:
	// the session is the console.
	ProfileOpenBMC: {Name: ProfileOpenBMC, Port: 2200},
	// iDRAC: the SM-CLP ("/admin1->") or racadm ("racadm>>") shell;
	// "console com2" attaches, Ctrl-\ leaves.
	ProfileIDRAC: {Name: ProfileIDRAC, Port: 22,
		Steps: []Step{
			{Expect: `(/admin1-> ?|racadm>> ?)$`},
			{Send: "console com2", Expect: `console com2[^\n]*\n`},
		},
		Busy:   `(?i)(console|serial device)[^\n]*(in use|busy|already)`,
		Detach: "\x1c",
		Ended:  `\n(/admin1-> ?|racadm>> ?)$`,
	},
	// iLO: the "</>hpiLO->" command line; "vsp" starts the Virtual Serial
	// Port, "ESC (" returns to the command line.
	ProfileILO: {Name: ProfileILO, Port: 22,
		Steps: []Step{
			{Expect: `</>hpiLO-> ?$`},
			{Send: "vsp", Expect: `(?i)(virtual serial port active|starting virtual serial port)[^\n]*\n`},
		},
		Busy:   `(?i)virtual serial port[^\n]*(in use|busy)`,
		Detach: "\x1b(",
		Ended:  `\n</>hpiLO-> ?$`,
	},
	// Supermicro: the SMASH-CLP command line ("->"); "start" in
	// /system1/sol1 attaches, Enter Esc T ends the session.
	ProfileSupermicro: {Name: ProfileSupermicro, Port: 22,
		Steps: []Step{
			{Expect: `-> ?$`},
			{Send: "cd /system1/sol1", Expect: `-> ?$`},
			{Send: "start", Expect: `(?i)to terminate session[^\n]*\n`},
		},
		Busy:   `(?i)(sol|session)[^\n]*(in use|busy|already)`,
		Detach: "\r\x1bT",
		Ended:  `\n(/system1/sol1)?-> ?$`,
	},
}

// Builtin returns a built-in profile by name.
func Builtin(name string) (Profile, bool) {
	p, ok := builtins[name]
	if !ok {
		return Profile{}, false
	}
	p.Steps = slices.Clone(p.Steps)
	return p, true
}

// BuiltinNames lists the built-in profiles, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Validate reports every problem of the profile, naming the field
// ("steps[1].expect: …").
func (p Profile) Validate() error {
	_, err := p.compile()
	return err
}

// compiled is a validated profile with its expressions compiled.
type compiled struct {
	Profile
	steps []compiledStep
	busy  *regexp.Regexp
	ended *regexp.Regexp
}

type compiledStep struct {
	send    []byte
	expect  *regexp.Regexp
	timeout time.Duration
}

func (p Profile) compile() (*compiled, error) {
	var pr profileProblems
	c := &compiled{Profile: p}
	p.checkFields(&pr)
	for i, s := range p.Steps {
		c.steps = append(c.steps, s.compile(fmt.Sprintf("steps[%d]", i), &pr))
	}
	c.busy = pr.pattern("busy", p.Busy)
	c.ended = pr.pattern("ended", p.Ended)
	if len(p.Detach) > maxDetachLen {
		pr.bad("detach", "longer than %d bytes", maxDetachLen)
	}
	if err := errors.Join(pr.errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// profileProblems collects what is wrong with a profile, field by field.
type profileProblems struct{ errs []error }

func (pr *profileProblems) bad(field, format string, args ...any) {
	pr.errs = append(pr.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// pattern compiles a bounded regular expression; nil for "" or a bad one.
func (pr *profileProblems) pattern(field, s string) *regexp.Regexp {
	if s == "" {
		return nil
	}
	if len(s) > maxPatternLen {
		pr.bad(field, "longer than %d characters", maxPatternLen)
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		pr.bad(field, "not a regular expression: %v", err)
		return nil
	}
	return re
}

// checkFields checks the profile's name, port, command and step count.
func (p Profile) checkFields(pr *profileProblems) {
	if p.Name == "" {
		pr.bad("name", "empty")
	} else if len(p.Name) > 64 || strings.IndexFunc(p.Name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		pr.bad("name", "%q: use lower-case letters, digits, '-' and '_' (at most 64)", p.Name)
	}
	if p.Port < 0 || p.Port > 65535 {
		pr.bad("port", "%d is not a TCP port", p.Port)
	}
	if len(p.Command) > maxCommandLen || strings.ContainsAny(p.Command, "\r\n\x00") {
		pr.bad("command", "one line of at most %d bytes", maxCommandLen)
	}
	if len(p.Steps) > MaxSteps {
		pr.bad("steps", "at most %d", MaxSteps)
	}
}

// compile checks one step (field f) and compiles it.
func (s Step) compile(f string, pr *profileProblems) compiledStep {
	cs := compiledStep{timeout: s.Timeout}
	switch {
	case s.Send == "" && s.Expect == "":
		pr.bad(f, "neither send nor expect")
	case len(s.Send) > maxSendLen:
		pr.bad(f+".send", "longer than %d bytes", maxSendLen)
	case strings.ContainsAny(s.Send, "\r\n\x00"):
		pr.bad(f+".send", "one line, without CR, LF or NUL (a carriage return is added)")
	}
	if s.Send != "" {
		cs.send = []byte(s.Send + "\r")
	}
	cs.expect = pr.pattern(f+".expect", s.Expect)
	if s.Timeout != 0 && (s.Timeout < minStepTimeout || s.Timeout > maxStepTimeout) {
		pr.bad(f+".timeout", "%v is outside %v to %v", s.Timeout, minStepTimeout, maxStepTimeout)
	}
	return cs
}
