package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScanDefaults(t *testing.T) {
	c, err := Load(writeFixture(t, baseConfig(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Scan{Concurrency: DefaultScanConcurrency, ProbeInterval: Duration{DefaultScanProbeInterval}, Timeout: Duration{DefaultScanTimeout}}
	if c.Scan != want {
		t.Errorf("scan = %+v, want %+v", c.Scan, want)
	}
}

func TestScanSection(t *testing.T) {
	for _, tc := range []struct {
		name, section string
		want          []string // problems, "" for none
		check         func(*testing.T, Scan)
	}{
		{name: "all set", section: "scan:\n  interval: 6h\n  concurrency: 32\n  probe_interval: 50ms\n  timeout: 3s\n  credentials: creds.yaml\n",
			check: func(t *testing.T, s Scan) {
				if s.Interval.Duration != 6*time.Hour || s.Concurrency != 32 || s.ProbeInterval.Duration != 50*time.Millisecond ||
					s.Timeout.Duration != 3*time.Second || !filepath.IsAbs(s.Credentials) {
					t.Errorf("scan = %+v", s)
				}
			}},
		{name: "interval too short", section: "scan:\n  interval: 10s\n",
			want: []string{"scan.interval: 10s is out of range: use 1m to 168h, or leave it out for no periodic scan"}},
		{name: "zero concurrency", section: "scan:\n  concurrency: 0\n",
			want: []string{"scan.concurrency: 0 is out of range: use 1 to 1024 (default 8)"}},
		{name: "probe interval too long", section: "scan:\n  probe_interval: 1m\n",
			want: []string{"scan.probe_interval: 1m0s is out of range: use 1ms to 10s (default 20ms)"}},
		{name: "missing credential list", section: "scan:\n  credentials: nope.yaml\n",
			want: []string{"scan.credentials: read credential list: open DIR/nope.yaml: no such file or directory"}},
		{name: "unknown field", section: "scan:\n  every: 1h\n",
			want: []string{"scan.every: unknown field (known fields here: concurrency, credentials, interval, probe_interval, timeout)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFixture(t, baseConfig(t)+tc.section)
			creds := "credentials:\n  - {vendor: Test, username: root, password: calvin}\n"
			if err := os.WriteFile(filepath.Join(filepath.Dir(path), "creds.yaml"), []byte(creds), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c.Scan)
				return
			}
			var got []string
			for _, l := range problemLines(t, path, LoadOptions{}) {
				_, rest, _ := strings.Cut(l, ": ")
				got = append(got, rest)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestBuiltinCredentials(t *testing.T) {
	list, err := LoadDefaultCredentials("")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range list {
		have[c.Username+"/"+c.Password] = true
		if c.Source == "" {
			t.Errorf("%s: no source", c.Vendor)
		}
	}
	for _, want := range []string{"root/calvin", "ADMIN/ADMIN", "USERID/PASSW0RD"} {
		if !have[want] {
			t.Errorf("built-in list lacks %s", want)
		}
	}
}

func TestCredentialListErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "credentials: []\n", "no credentials"},
		{"unknown field", "credentials:\n  - {vendor: X, username: a, pass: b}\n", "field pass not found"},
		{"no vendor", "credentials:\n  - {username: a, password: b}\n", "vendor is required"},
		{"long password", "credentials:\n  - {vendor: X, username: a, password: 012345678901234567890}\n", "longer than 20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadDefaultCredentials(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "012345678901234567890") {
				t.Errorf("error shows a password")
			}
		})
	}
}
