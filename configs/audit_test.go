package configs

import (
	"strings"
	"testing"
)

func TestAuditSection(t *testing.T) {
	for _, tc := range []struct {
		name, section string
		problem       string // substring of the error, "" for none
		tamper        string
		bytes         uint64
		percent       float64
	}{
		{name: "defaults", tamper: OnTamperRefuse, bytes: 256 << 20},
		{name: "warn and a percentage", section: "audit:\n  on_tamper: warn\n  min_free: 5%\n", tamper: OnTamperWarn, percent: 5},
		{name: "GiB", section: "audit:\n  min_free: 1GiB\n", tamper: OnTamperRefuse, bytes: 1 << 30},
		{name: "decimal MB", section: "audit:\n  min_free: 500MB\n", tamper: OnTamperRefuse, bytes: 500e6},
		{name: "off", section: "audit:\n  min_free: \"0\"\n", tamper: OnTamperRefuse},
		{name: "bad tamper", section: "audit:\n  on_tamper: ignore\n", problem: `audit.on_tamper: unknown value "ignore": use refuse or warn`},
		{name: "bad size", section: "audit:\n  min_free: lots\n", problem: `audit.min_free: "lots" is not a size`},
		{name: "bad percent", section: "audit:\n  min_free: 120%\n", problem: `audit.min_free: "120%" is not a percentage`},
		{name: "unknown key", section: "audit:\n  on_tampr: warn\n", problem: "audit.on_tampr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(writeFixture(t, baseConfig(t)+tc.section), LoadOptions{})
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, p := c.Audit.MinFreeFloor()
			if c.Audit.OnTamper != tc.tamper || b != tc.bytes || p != tc.percent {
				t.Fatalf("audit = %+v floor %d %g", c.Audit, b, p)
			}
		})
	}
}
