package gateway

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// The refused-reload record carries the file:line reasons, bounded.
func TestReloadRefusedRecordsReasons(t *testing.T) {
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, "")
	path := h.g.cfg.Path
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bad strings.Builder
	bad.Write(good)
	for i := range 20 {
		fmt.Fprintf(&bad, "bogus_%02d: \"\\e[31m\"\n", i)
	}
	if err := os.WriteFile(path, []byte(bad.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(context.Background()); err == nil {
		t.Fatal("a bad reload was accepted")
	}
	recs := h.records(t, audit.Query{Code: audit.CodeConfigLoad, Outcome: audit.OutcomeError})
	if len(recs) != 1 {
		t.Fatalf("%d refused-reload records", len(recs))
	}
	f := recs[0].Fields
	if f["problems"] != "20" || f["problems_more"] != "4" || f["problem_17"] != "" {
		t.Fatalf("fields %v", f)
	}
	if p := f["problem_1"]; !strings.Contains(p, "bmcgate.yaml:") || !strings.Contains(p, "bogus_00: unknown field") {
		t.Fatalf("problem_1 = %q", p)
	}
}
