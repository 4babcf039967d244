package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits bound the gateway's resources. Durations are Go duration strings
// ("10s"); every field has a default and a sane range.
type Limits struct {
	HandshakeTimeout   Duration `yaml:"handshake_timeout"`    // SSH handshake and authentication (10s)
	IdleTimeout        Duration `yaml:"idle_timeout"`         // idle SSH session (15m)
	MaxSessionDuration Duration `yaml:"max_session_duration"` // any SSH session (12h)
	CommandTimeout     Duration `yaml:"command_timeout"`      // one gateway command, fan-out included (60s)
	IPMICallTimeout    Duration `yaml:"ipmi_call_timeout"`    // one IPMI request (10s)
	IPMIConnectTimeout Duration `yaml:"ipmi_connect_timeout"` // RMCP+ session setup (5s)
	IPMIKeepAlive      Duration `yaml:"ipmi_keepalive"`       // keep-alive interval of idle IPMI sessions (15s)
	// RefusalAuditInterval is how often repeated refusals (failed logins,
	// dropped connections, refused requests) are summarised in the audit
	// log: the first of a kind per source is written at once (1m).
	RefusalAuditInterval Duration `yaml:"refusal_audit_interval"`

	MaxConnections        int `yaml:"max_connections"`          // concurrent authenticated SSH connections (256)
	MaxConnectionsPerUser int `yaml:"max_connections_per_user"` // per user (16)
	// MaxStartups is "start:rate:full" for SSH connections not yet
	// authenticated: from start on, a new one is dropped with probability
	// rate%, rising linearly to 100% at full ("20:30:100").
	MaxStartups string `yaml:"max_startups"`
	// MaxPreAuthPerSource bounds the unauthenticated SSH connections of one
	// source address (an IPv6 /64) (10).
	MaxPreAuthPerSource int `yaml:"max_preauth_per_source"`
	// MaxRefusedRequests is how many refused requests (forwarding, agent,
	// subsystems, ...) an SSH connection may make in a burst before it is
	// closed; the allowance comes back at one per second (32).
	MaxRefusedRequests int `yaml:"max_refused_requests"`
	FanoutConcurrency  int `yaml:"fanout_concurrency"`    // BMCs worked on at once by one command (32)
	MaxTargets         int `yaml:"max_targets"`           // BMCs one command may select (1000)
	IPMISessionsPerBMC int `yaml:"ipmi_sessions_per_bmc"` // concurrent IPMI sessions per BMC (2)

	startups Startups
}

// Startups is a parsed max_startups value.
type Startups struct{ Start, Rate, Full int }

// DefaultMaxStartups is max_startups when the file leaves it out.
const DefaultMaxStartups = "20:30:100"

// Startups returns the parsed MaxStartups.
func (l Limits) Startups() Startups { return l.startups }

// ParseStartups parses "start:rate:full": 1 <= start <= full <= 65535 and
// 0 <= rate <= 100.
func ParseStartups(s string) (Startups, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Startups{}, fmt.Errorf("%q is not start:rate:full, like %q", s, DefaultMaxStartups)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return Startups{}, fmt.Errorf("%q is not start:rate:full, like %q", s, DefaultMaxStartups)
		}
		n[i] = v
	}
	st := Startups{Start: n[0], Rate: n[1], Full: n[2]}
	switch {
	case st.Start < 1 || st.Full > 65535 || st.Start > st.Full:
		return Startups{}, fmt.Errorf("%q: need 1 <= start <= full <= 65535", s)
	case st.Rate < 0 || st.Rate > 100:
		return Startups{}, fmt.Errorf("%q: rate is a percentage, 0 to 100", s)
	}
	return st, nil
}

// durationLimit is the default and range of one Duration field.
type durationLimit struct {
	name          string
	v             *Duration
	def, min, max time.Duration
}

// intLimit is the default and range of one int field.
type intLimit struct {
	name          string
	v             *int
	def, min, max int
}

// checkDurations fills in the default of every field of section that the
// file leaves out and range-checks the ones it sets; fields out of range
// are marked in bad (when not nil), so cross-field checks can skip them.
func (v *validator) checkDurations(section string, ds []durationLimit, bad map[string]bool) {
	for _, d := range ds {
		field := fieldPath(section, d.name)
		if !v.present(field) {
			d.v.Duration = d.def
			continue
		}
		if d.v.Duration < d.min || d.v.Duration > d.max {
			v.probs.add(field, "%s is out of range: use %s to %s (default %s)", d.v.Duration, d.min, d.max, d.def)
			if bad != nil {
				bad[d.name] = true
			}
		}
	}
}

// checkInts is checkDurations for int fields.
func (v *validator) checkInts(section string, ns []intLimit, bad map[string]bool) {
	for _, n := range ns {
		field := fieldPath(section, n.name)
		if !v.present(field) {
			*n.v = n.def
			continue
		}
		if *n.v < n.min || *n.v > n.max {
			v.probs.add(field, "%d is out of range: use %d to %d (default %d)", *n.v, n.min, n.max, n.def)
			if bad != nil {
				bad[n.name] = true
			}
		}
	}
}

// limits fills in defaults and checks ranges. A field written in the file
// is checked as written, so an explicit 0 is an error, not the default.
func (v *validator) limits() {
	l := &v.c.Limits
	bad := map[string]bool{} // out of range: left out of the comparisons below
	durs := []durationLimit{
		{"handshake_timeout", &l.HandshakeTimeout, 10 * time.Second, time.Second, 5 * time.Minute},
		{"idle_timeout", &l.IdleTimeout, 15 * time.Minute, 10 * time.Second, 24 * time.Hour},
		{"max_session_duration", &l.MaxSessionDuration, 12 * time.Hour, time.Minute, 7 * 24 * time.Hour},
		{"command_timeout", &l.CommandTimeout, 60 * time.Second, time.Second, time.Hour},
		{"ipmi_call_timeout", &l.IPMICallTimeout, 10 * time.Second, 100 * time.Millisecond, 5 * time.Minute},
		{"ipmi_connect_timeout", &l.IPMIConnectTimeout, 5 * time.Second, 100 * time.Millisecond, 5 * time.Minute},
		{"ipmi_keepalive", &l.IPMIKeepAlive, 15 * time.Second, time.Second, 5 * time.Minute},
		{"refusal_audit_interval", &l.RefusalAuditInterval, time.Minute, time.Second, time.Hour},
	}
	v.checkDurations("limits", durs, bad)
	ints := []intLimit{
		{"max_connections", &l.MaxConnections, 256, 1, 65535},
		{"max_connections_per_user", &l.MaxConnectionsPerUser, 16, 1, 65535},
		{"fanout_concurrency", &l.FanoutConcurrency, 32, 1, 1024},
		{"max_targets", &l.MaxTargets, 1000, 1, 100000},
		{"ipmi_sessions_per_bmc", &l.IPMISessionsPerBMC, 2, 1, 16},
		{"max_preauth_per_source", &l.MaxPreAuthPerSource, 10, 1, 65535},
		{"max_refused_requests", &l.MaxRefusedRequests, 32, 1, 100000},
	}
	v.checkInts("limits", ints, bad)
	if !v.present("limits.max_startups") {
		l.MaxStartups = DefaultMaxStartups
	}
	if st, err := ParseStartups(l.MaxStartups); err != nil {
		v.probs.add("limits.max_startups", "%v", err)
		bad["max_startups"] = true
	} else {
		l.startups = st
	}
	ok := func(a, b string) bool { return !bad[a] && !bad[b] }
	if ok("max_connections_per_user", "max_connections") && l.MaxConnectionsPerUser > l.MaxConnections {
		v.probs.add("limits.max_connections_per_user", "%d is more than max_connections (%d)", l.MaxConnectionsPerUser, l.MaxConnections)
	}
	if ok("max_preauth_per_source", "max_startups") && l.MaxPreAuthPerSource > l.startups.Full {
		v.probs.add("limits.max_preauth_per_source", "%d is more than max_startups allows in all (%d)", l.MaxPreAuthPerSource, l.startups.Full)
	}
	if ok("ipmi_call_timeout", "command_timeout") && l.IPMICallTimeout.Duration > l.CommandTimeout.Duration {
		v.probs.add("limits.ipmi_call_timeout", "%s is longer than command_timeout (%s)", l.IPMICallTimeout, l.CommandTimeout)
	}
	if ok("idle_timeout", "max_session_duration") && l.IdleTimeout.Duration > l.MaxSessionDuration.Duration {
		v.probs.add("limits.idle_timeout", "%s is longer than max_session_duration (%s)", l.IdleTimeout, l.MaxSessionDuration)
	}
}
