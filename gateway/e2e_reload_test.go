package gateway

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// TestE2EReload: a reload swaps users and policy for new commands; a bad
// file is refused, audited, and the running config stays.
func TestE2EReload(t *testing.T) {
	h := authHarness(t, "")
	if out, _, code := h.ssh("vic", nil, "power", "status", "node01"); code != 0 || !strings.Contains(out, "node01") {
		t.Fatalf("before reload: %d %q", code, out)
	}
	path := h.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Take power.status away from viewers and disable alice.
	changed := strings.Replace(string(orig), `"power.status", `, "", 1)
	changed = strings.Replace(changed, "  - name: alice\n    roles: [admin]\n", "  - name: alice\n    roles: [admin]\n    disabled: true\n", 1)
	if changed == string(orig) {
		t.Fatal("test config did not change")
	}
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if _, errOut, code := h.ssh("vic", nil, "power", "status", "node01"); code == 0 {
		t.Fatalf("viewer still has power.status after reload: %q", errOut)
	}
	if _, _, code := h.ssh("alice", nil, "whoami"); code != 255 {
		t.Fatalf("disabled alice still logs in (code %d)", code)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConfigLoad, Outcome: audit.OutcomeOK}, nil)

	if err := os.WriteFile(path, []byte(changed+"bogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "bogus_key") {
		t.Fatalf("bad reload: %v", err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConfigLoad, Outcome: audit.OutcomeError}, nil)
	if out, _, code := h.ssh("vic", nil, "list"); code != 0 || !strings.Contains(out, "node01") {
		t.Fatalf("running config lost after a bad reload: %d %q", code, out)
	}
}
