package configs

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Values of bmcs[i].console.via.
const (
	ConsoleViaSOL  = "sol"  // Serial-over-LAN through IPMI (default for BMCs with IPMI)
	ConsoleViaSSH  = "ssh"  // the BMC's own SSH console service
	ConsoleViaNone = "none" // no console through bmcgate
)

// ConsoleProfileNames are the built-in BMC SSH console profiles (package
// proxy/bmcssh; a gateway test keeps the two lists equal).
var ConsoleProfileNames = []string{"openbmc", "idrac", "ilo", "supermicro"}

// DefaultConsoleProfile is the profile of an SSH console that names none.
const DefaultConsoleProfile = "openbmc"

// Limits of console profiles, those of package proxy/bmcssh.
const (
	maxConsoleSteps       = 16
	maxConsoleSend        = 256
	maxConsolePattern     = 256
	maxConsoleDetach      = 8
	maxConsoleCommand     = 256
	minConsoleStepTimeout = 100 * time.Millisecond
	maxConsoleStepTimeout = 5 * time.Minute
)

// BMCConsole is how the gateway reaches the host's serial console behind
// a BMC.
type BMCConsole struct {
	// Via is sol (default when the BMC has IPMI settings), ssh or none
	// (default for a Redfish BMC without IPMI settings).
	Via string `yaml:"via"`
	// Port is the SSH console service's port (default: the profile's).
	Port int `yaml:"port"`
	// Profile is a built-in profile (openbmc, the default; idrac, ilo,
	// supermicro) or a name from console_profiles.
	Profile string `yaml:"profile"`
	// HostKey is the pinned SSH host key, "TYPE BASE64" as
	// "bmcgate pin --ssh BMC" prints it. Without it the console is refused
	// (never trusted on first use).
	HostKey string `yaml:"host_key"`

	hostKey ssh.PublicKey
}

// PinnedHostKey returns the parsed HostKey (nil when none is pinned).
func (c BMCConsole) PinnedHostKey() ssh.PublicKey { return c.hostKey }

// ConsoleProfile is an operator-defined way from a login on a BMC's SSH
// service to the host console, in the shape of the built-in ones.
type ConsoleProfile struct {
	Name string `yaml:"name"`
	// Port is the SSH port when the BMC's console section names none (22).
	Port int `yaml:"port"`
	// Command is run instead of a login shell when set.
	Command string `yaml:"command"`
	// Steps run in order; when the last has passed, the console is
	// attached.
	Steps []ConsoleStep `yaml:"steps"`
	// Busy, Ended: regular expressions (RE2) meaning "another client holds
	// the console" and "the BMC's command line is back".
	Busy  string `yaml:"busy"`
	Ended string `yaml:"ended"`
	// Detach is the byte sequence that leaves the console (at most 8).
	Detach string `yaml:"detach"`
}

// ConsoleStep sends a line and waits for text.
type ConsoleStep struct {
	Send    string   `yaml:"send"`
	Expect  string   `yaml:"expect"`
	Timeout Duration `yaml:"timeout"`
}

// consoleProfiles checks the operator's console profiles; it runs before
// the BMCs, whose console.profile may name them.
func (v *validator) consoleProfiles() {
	seen := map[string]string{}
	for i := range v.c.ConsoleProfiles {
		p := &v.c.ConsoleProfiles[i]
		field := indexPath("console_profiles", i)
		f := func(name string) string { return fieldPath(field, name) }
		switch err := checkName(p.Name, "profile name", false); {
		case err != nil:
			v.probs.add(f("name"), "%v", err)
		case slices.Contains(ConsoleProfileNames, p.Name):
			v.probs.add(f("name"), "%q is a built-in profile: choose another name", p.Name)
		case seen[p.Name] != "":
			v.probs.add(f("name"), "%s", dupMessage("console profile", p.Name, seen[p.Name]))
		default:
			seen[p.Name] = field
		}
		if v.present(f("port")) && (p.Port < 1 || p.Port > 65535) {
			v.probs.add(f("port"), "port %d is out of range 1-65535", p.Port)
		}
		if len(p.Command) > maxConsoleCommand || hasControl(p.Command) {
			v.probs.add(f("command"), "at most %d bytes without control characters", maxConsoleCommand)
		}
		if len(p.Steps) > maxConsoleSteps {
			v.probs.add(f("steps"), "at most %d steps", maxConsoleSteps)
		}
		for j := range p.Steps {
			s := &p.Steps[j]
			sf := indexPath(f("steps"), j)
			if len(s.Send) > maxConsoleSend || hasControl(s.Send) {
				v.probs.add(fieldPath(sf, "send"), "at most %d bytes without control characters (the carriage return is added)", maxConsoleSend)
			}
			v.consolePattern(fieldPath(sf, "expect"), s.Expect)
			if v.present(fieldPath(sf, "timeout")) && (s.Timeout.Duration < minConsoleStepTimeout || s.Timeout.Duration > maxConsoleStepTimeout) {
				v.probs.add(fieldPath(sf, "timeout"), "%s is out of range: use %s to %s", s.Timeout, minConsoleStepTimeout, maxConsoleStepTimeout)
			}
		}
		v.consolePattern(f("busy"), p.Busy)
		v.consolePattern(f("ended"), p.Ended)
		if len(p.Detach) > maxConsoleDetach {
			v.probs.add(f("detach"), "at most %d bytes", maxConsoleDetach)
		}
	}
}

// consolePattern checks a profile's regular expression.
func (v *validator) consolePattern(field, re string) {
	if re == "" {
		return
	}
	if len(re) > maxConsolePattern {
		v.probs.add(field, "longer than %d bytes", maxConsolePattern)
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		v.probs.add(field, "not a regular expression (Go RE2 syntax)")
	}
}

// hasConsoleProfile reports whether the config defines a console profile
// named s.
func (v *validator) hasConsoleProfile(s string) bool {
	return slices.ContainsFunc(v.c.ConsoleProfiles, func(p ConsoleProfile) bool { return p.Name == s })
}

// bmcConsole checks a BMC's console section and fills in its defaults.
func (v *validator) bmcConsole(field string, b *BMC) {
	c := &b.Console
	f := func(name string) string { return fieldPath(field, name) }
	switch c.Via {
	case "":
		if v.present(f("via")) {
			v.probs.add(f("via"), "must not be empty: use sol, ssh or none")
		}
		c.Via = ConsoleViaNone
		if b.hasIPMI {
			c.Via = ConsoleViaSOL
		}
	case ConsoleViaSOL:
		if !b.hasIPMI {
			v.probs.add(f("via"), "Serial-over-LAN needs IPMI: give the BMC an ipmi section, or use ssh")
		}
	case ConsoleViaSSH, ConsoleViaNone:
	default:
		v.probs.add(f("via"), "unknown console transport: use sol, ssh or none")
	}
	ssh := c.Via == ConsoleViaSSH
	for _, name := range []string{"port", "profile", "host_key"} {
		if !ssh && v.present(f(name)) {
			v.probs.add(f(name), "only used with via: ssh")
		}
	}
	if !ssh {
		return
	}
	switch {
	case c.Profile == "":
		if v.present(f("profile")) {
			v.probs.add(f("profile"), "must not be empty: leave it out for %s", DefaultConsoleProfile)
		}
		c.Profile = DefaultConsoleProfile
	case !slices.Contains(ConsoleProfileNames, c.Profile) && !v.hasConsoleProfile(c.Profile):
		v.probs.add(f("profile"), "unknown profile: use one of %s, or a name from console_profiles", strings.Join(ConsoleProfileNames, ", "))
	}
	if v.present(f("port")) && (c.Port < 1 || c.Port > 65535) {
		v.probs.add(f("port"), "port %d is out of range 1-65535", c.Port)
	}
	if c.HostKey != "" {
		k, msg := parseHostKey(c.HostKey)
		if msg != "" {
			v.probs.add(f("host_key"), "%s", msg)
		}
		c.hostKey = k
	} else if v.present(f("host_key")) {
		v.probs.add(f("host_key"), "must not be empty: leave it out until \"bmcgate pin --ssh\" has shown the key")
	}
	if !b.hasIPMI && !b.Redfish.enabled {
		v.probs.add(field, "the SSH console logs in with the BMC's Redfish or IPMI account: the BMC has neither")
	}
}

// parseHostKey reads a pinned SSH host key line ("TYPE BASE64 [comment]")
// and refuses key types bmcgate never trusts.
func parseHostKey(line string) (ssh.PublicKey, string) {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "SHA256:") || strings.HasPrefix(line, "MD5:") {
		return nil, "a fingerprint is not enough: pin the public key line (\"ssh-ed25519 AAAA…\", as \"bmcgate pin --ssh\" prints it)"
	}
	if len(line) > 16<<10 {
		return nil, "the host key line is too long"
	}
	if strings.HasPrefix(line, algoDSA+" ") {
		return nil, "DSA (ssh-dss) host keys are refused: they sign with SHA-1"
	}
	k, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "not a public key line: want \"TYPE BASE64 [comment]\", as \"bmcgate pin --ssh\" prints it"
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, "one key per line"
	}
	switch k.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return k, ""
	case ssh.KeyAlgoRSA:
		if msg := WeakKey(k); msg != "" {
			return nil, msg
		}
		return k, ""
	}
	return nil, "host key type " + k.Type() + " is not supported: use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of at least 2048 bits"
}

// hasControl reports whether s holds a control character.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f }) >= 0
}
