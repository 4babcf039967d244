package gateway

import (
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestWebScanPanel: after a scan over SSH, the dashboard shows the stored
// posture reports to a user allowed to scan, and nothing to one who is not.
func TestWebScanPanel(t *testing.T) {
	ins := startSim(t, "ins01", bmcsim.Options{Username: "ADMIN", Password: "ADMIN", CipherSuites: []int{0, 3, 17},
		V15AuthTypes: []string{"none", "password"}, NullUser: true})
	w := startWeb(t, webOptions{
		moreBMCs: []testBMC{{name: "ins01", addr: ins.Addr(), user: "ADMIN", pass: "ADMIN", suite: 3}},
		extraWeb: "scan:\n  probe_interval: 1ms\n  timeout: 500ms\n",
	})
	if out, errOut, code := w.ssh("alice", nil, "scan", "ins01"); code != 4 {
		t.Fatalf("scan: exit %d, want 4\n%s\n%s", code, out, errOut)
	}
	tests := []struct {
		user, password string
		want, wantNot  []string
	}{
		{"alice", "alice-password-1", []string{"Posture scan", "ins01", "critical", "cipher-suite-0", "default-credentials"}, []string{"ADMIN</td>"}},
		{"vic", "vic-password-1", nil, []string{"Posture scan", "cipher-suite-0"}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			c := w.client(t)
			w.login(t, c, tc.user, tc.password, "/")
			resp, body := get(t, c, w.base+"/")
			if resp.StatusCode != 200 {
				t.Fatalf("dashboard: %d", resp.StatusCode)
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("dashboard lacks %q", s)
				}
			}
			for _, s := range tc.wantNot {
				if strings.Contains(body, s) {
					t.Errorf("dashboard shows %q", s)
				}
			}
		})
	}
}
