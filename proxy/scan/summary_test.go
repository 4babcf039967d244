package scan

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	dev := func(fw string) *Device { return &Device{Manufacturer: "Dell", ProductID: 256, Firmware: fw} }
	reports := []*Report{
		{BMC: "a", Reachable: true, Device: dev("2.10"), Findings: []Finding{newFinding(IDCipherSuite0, "x"), newFinding(IDSOLEnabled, "y")}},
		{BMC: "b", Reachable: true, Device: dev("2.10")},
		{BMC: "c", Reachable: true, Device: dev("1.02"), Findings: []Finding{newFinding(IDExtraAdmins, "z")}},
		{BMC: "d"},
	}
	s := Summarize(reports)
	if s.BMCs != 4 || s.Unreachable != 1 || s.Critical != 1 {
		t.Errorf("counts %+v", s)
	}
	if s.BySeverity["critical"] != 1 || s.BySeverity["medium"] != 1 || s.ByID[IDSOLEnabled] != 1 {
		t.Errorf("by severity %v, by id %v", s.BySeverity, s.ByID)
	}
	if len(s.Firmware) != 2 || s.Firmware[0].Firmware != "2.10" || s.Firmware[0].Count != 2 || s.Firmware[1].Count != 1 {
		t.Errorf("firmware %+v", s.Firmware)
	}
	var b bytes.Buffer
	WriteTable(&b, reports)
	WriteSummary(&b, s)
	for _, want := range []string{"worst: critical", "worst: unreachable", "CRITICAL", "cipher-suite-0", "[--fix]", "fleet: 4 BMCs scanned, 1 unreachable, 1 with critical findings", "2.10"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if reports[0].String() != "2 findings, worst critical" || reports[3].String() != "unreachable" {
		t.Errorf("String: %q %q", reports[0], reports[3])
	}
}

func TestFindingCatalog(t *testing.T) {
	for id, f := range catalog {
		if f.Severity.Rank() < 0 || f.Title == "" || f.Remedy == "" {
			t.Errorf("%s: incomplete catalog entry", id)
		}
	}
}
