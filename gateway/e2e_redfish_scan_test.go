package gateway

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestE2ERedfishPostureScan scans a Redfish-only BMC through OpenSSH: IPMI
// over LAN still on, plain HTTP and SSDP on (as the DMTF mockup the
// simulator is seeded from has them), an extra Administrator account, a self-signed
// certificate and a session someone opened around the gateway are all
// reported; the firmware inventory is counted for the fleet.
func TestE2ERedfishPostureScan(t *testing.T) {
	sim := startSim(t, "rf05", bmcsim.Options{Username: "unused", Password: "unused-Pass-1"})
	const pass = "rf-Scan-Pass-7"
	rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass, ExtraAccounts: []string{"intruder:Administrator", "ops:Operator"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	// Someone logs in around the gateway.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	body, _ := json.Marshal(map[string]string{"UserName": "gw", "Password": pass})
	resp, err := c.Post(rf.URL()+"/redfish/v1/SessionService/Sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("outside login: %d", resp.StatusCode)
	}
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, redfishBMCEntry(t, t.TempDir(), "rf05", rf, "gw", pass, "{}"))

	out, errOut, code := h.ssh("alice", nil, "scan", "rf05", "--json")
	if code != 0 && code != 1 && code != 4 {
		t.Fatalf("scan: %d\n%s\n%s", code, out, errOut)
	}
	for _, id := range []string{"ipmi-over-lan-enabled", "plain-http-enabled", "ssdp-enabled", "extra-admin-users", "redfish-tls-self-signed", "sessions-not-opened-by-gateway"} {
		if !strings.Contains(out, `"`+id+`"`) {
			t.Errorf("no %s finding:\n%s", id, out)
		}
	}
	if !strings.Contains(out, "intruder") || strings.Contains(out, pass) || !strings.Contains(out, `"firmware_inventory"`) {
		t.Errorf("scan output:\n%s", out)
	}
	if strings.Contains(out, "cipher-suite") || strings.Contains(out, `"reachable": false`) {
		t.Errorf("a Redfish-only BMC was probed over IPMI:\n%s", out)
	}
	// With IPMI, plain HTTP and SSDP off, those findings go.
	rf.SetIPMIEnabled(false)
	rf.SetProtocolEnabled("HTTP", false)
	rf.SetProtocolEnabled("SSDP", false)
	out, _, _ = h.ssh("alice", nil, "scan", "rf05", "--json")
	for _, id := range []string{"ipmi-over-lan-enabled", "plain-http-enabled", "ssdp-enabled"} {
		if strings.Contains(out, `"`+id+`"`) {
			t.Errorf("%s finding with it off:\n%s", id, out)
		}
	}
}
