package configs

import "time"

// Console configures the Serial-over-LAN console broker. Every field has a
// default, so the section may be left out.
type Console struct {
	Enabled              bool     `yaml:"enabled"`                 // serve consoles (true)
	EscapeChar           string   `yaml:"escape_char"`             // one printable ASCII character at line start ("~")
	ScrollbackKiB        int      `yaml:"scrollback_kib"`          // console output kept per BMC and shown on attach (64)
	IdleTimeout          Duration `yaml:"idle_timeout"`            // a viewer that types nothing this long is detached (30m)
	AllowTakeover        bool     `yaml:"allow_takeover"`          // users with console.force may take a console from a client outside bmcgate (false)
	KeepAlive            Duration `yaml:"keepalive"`               // check an idle BMC session after this long without traffic (10s)
	ReconnectMin         Duration `yaml:"reconnect_min"`           // first re-activation delay after a drop (500ms)
	ReconnectMax         Duration `yaml:"reconnect_max"`           // cap of the re-activation backoff (30s)
	MaxViewersPerConsole int      `yaml:"max_viewers_per_console"` // viewers attached to one console (16)
}

// console fills in defaults and checks the console section.
func (v *validator) console() {
	c := &v.c.Console
	if !v.present("console.enabled") {
		c.Enabled = true
	}
	if !v.present("console.escape_char") {
		c.EscapeChar = "~"
	} else if e := c.EscapeChar; len(e) != 1 || e[0] < 0x21 || e[0] > 0x7e {
		v.probs.add("console.escape_char", "must be one printable ASCII character other than space, such as \"~\" or \"&\"")
	}
	durs := []durationLimit{
		{"idle_timeout", &c.IdleTimeout, 30 * time.Minute, 10 * time.Second, 24 * time.Hour},
		{"keepalive", &c.KeepAlive, 10 * time.Second, time.Second, 5 * time.Minute},
		{"reconnect_min", &c.ReconnectMin, 500 * time.Millisecond, 10 * time.Millisecond, time.Minute},
		{"reconnect_max", &c.ReconnectMax, 30 * time.Second, 100 * time.Millisecond, 10 * time.Minute},
	}
	bad := map[string]bool{}
	v.checkDurations("console", durs, bad)
	ints := []intLimit{
		{"scrollback_kib", &c.ScrollbackKiB, 64, 0, 1024},
		{"max_viewers_per_console", &c.MaxViewersPerConsole, 16, 1, 256},
	}
	v.checkInts("console", ints, bad)
	if !bad["reconnect_min"] && !bad["reconnect_max"] && c.ReconnectMin.Duration > c.ReconnectMax.Duration {
		v.probs.add("console.reconnect_min", "%s is longer than reconnect_max (%s)", c.ReconnectMin, c.ReconnectMax)
	}
}
