package configs

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConsoleDefaults(t *testing.T) {
	c, err := Load(writeFixture(t, baseConfig(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Console{Enabled: true, EscapeChar: "~", ScrollbackKiB: 64, IdleTimeout: Duration{30 * time.Minute},
		KeepAlive: Duration{10 * time.Second}, ReconnectMin: Duration{500 * time.Millisecond}, ReconnectMax: Duration{30 * time.Second},
		MaxViewersPerConsole: 16}
	if c.Console != want {
		t.Fatalf("defaults %+v, want %+v", c.Console, want)
	}
}

func TestConsoleSection(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    []string // problem lines without the "DIR/bmcgate.yaml:N: " prefix
		check   func(Console) bool
	}{
		{name: "valid", section: "console:\n  enabled: false\n  escape_char: \"&\"\n  scrollback_kib: 0\n  allow_takeover: true\n  reconnect_min: 1s\n  reconnect_max: 2s\n",
			check: func(c Console) bool {
				return !c.Enabled && c.EscapeChar == "&" && c.ScrollbackKiB == 0 && c.AllowTakeover && c.ReconnectMax.Duration == 2*time.Second
			}},
		{name: "escape too long", section: "console:\n  escape_char: \"~~\"\n", want: []string{"console.escape_char: must be one printable ASCII character other than space, such as \"~\" or \"&\""}},
		{name: "escape control", section: "console:\n  escape_char: \"\\x1d\"\n", want: []string{"console.escape_char: must be one printable ASCII character other than space, such as \"~\" or \"&\""}},
		{name: "ranges", section: "console:\n  scrollback_kib: 4096\n  max_viewers_per_console: 0\n  idle_timeout: 1s\n",
			want: []string{
				"console.idle_timeout: 1s is out of range: use 10s to 24h0m0s (default 30m0s)",
				"console.scrollback_kib: 4096 is out of range: use 0 to 1024 (default 64)",
				"console.max_viewers_per_console: 0 is out of range: use 1 to 256 (default 16)",
			}},
		{name: "backoff order", section: "console:\n  reconnect_min: 40s\n  reconnect_max: 10s\n", want: []string{"console.reconnect_min: 40s is longer than reconnect_max (10s)"}},
		{name: "unknown field", section: "console:\n  escape: \"~\"\n", want: []string{"console.escape: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFixture(t, baseConfig(t)+tt.section)
			if tt.check != nil {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !tt.check(c.Console) {
					t.Fatalf("loaded %+v", c.Console)
				}
				return
			}
			got := problemLines(t, path, LoadOptions{})
			for i, g := range got {
				if _, rest, ok := strings.Cut(g, ": "); ok {
					got[i] = rest
				}
			}
			for _, w := range tt.want {
				found := slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) })
				if !found {
					t.Errorf("missing problem %q in:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
		})
	}
}
