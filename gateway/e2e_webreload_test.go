package gateway

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
)

// TestWebReloadGroupRoles changes the group-to-role mapping with a reload:
// the next login gets the new roles.
func TestWebReloadGroupRoles(t *testing.T) {
	fake := oidcop.StartFake(t, "bmcgate")
	w := startWeb(t, webOptions{issuer: fake.Issuer})
	c := w.client(t)
	get(t, c, fakeCallback(t, w, c, "/"))
	if resp, _ := get(t, c, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusOK {
		t.Fatalf("ops member before reload: %d", resp.StatusCode)
	}
	path := w.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(orig), "ops: [admin]", "ops: [viewer]", 1)
	if changed == string(orig) {
		t.Fatal("test config did not change")
	}
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.g.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	c2 := w.client(t)
	get(t, c2, fakeCallback(t, w, c2, "/"))
	if resp, _ := get(t, c2, w.base+"/bmc/node01/power/cycle"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ops member after the reload made ops viewers: %d", resp.StatusCode)
	}
}
