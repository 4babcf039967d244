package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// redfishBMCEntry is the config entry of a Redfish-only BMC (no ipmi
// section) for a simulated BMC's Redfish service; it continues the
// harness's bmcs list.
func redfishBMCEntry(t *testing.T, dir, name string, rf *bmcsim.Redfish, user, pass, labels string) string {
	t.Helper()
	pw := filepath.Join(dir, "rfpw_"+name)
	if err := os.WriteFile(pw, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, _, _ := strings.Cut(rf.Addr(), ":")
	return fmt.Sprintf(`  - name: %s
    address: %q
    labels: %s
    protocol: redfish
    redfish:
      url: %q
      username: %q
      password_file: %q
      tls:
        pin_sha256: %q
`, name, host, labels, rf.URL(), user, pw, bmctls.Fingerprint(rf.Certificate()))
}

// TestE2ERedfishFleet drives a mixed fleet through OpenSSH: an IPMI BMC
// and a Redfish-only one (its simulator's IPMI side never configured),
// with the same commands, the same output shapes and fan-out over both.
func TestE2ERedfishFleet(t *testing.T) {
	ipmiSim := startSim(t, "ipmi01", bmcsim.Options{Username: "gw", Password: "ipmi-Pass-1", CipherSuites: []int{17}, Sensors: true})
	rfSim := startSim(t, "rf01", bmcsim.Options{Username: "unused", Password: "unused-Pass-1", CipherSuites: []int{17}})
	const rfPass = "rf-Secret-Pass-9"
	rf, err := rfSim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: rfPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	dir := t.TempDir()
	h := startHarness(t, []testBMC{
		{name: "ipmi01", addr: ipmiSim.Addr(), user: "gw", pass: "ipmi-Pass-1", suite: 17, labels: "{rack: r1}"},
	}, []testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}},
		redfishBMCEntry(t, dir, "rf01", rf, "gw", rfPass, "{rack: r1}"))

	ssh := func(user string, args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := h.ssh(user, nil, args...)
		for _, s := range []string{out, errOut} {
			if strings.Contains(s, rfPass) || strings.Contains(s, "ipmi-Pass-1") {
				t.Fatalf("a BMC password in the output of %v", args)
			}
		}
		return out, errOut, code
	}

	t.Run("power fan-out over both transports", func(t *testing.T) {
		out, errOut, code := ssh("alice", "power", "on", "rack=r1")
		if code != 0 || !strings.Contains(out, "ipmi01") || !strings.Contains(out, "rf01") {
			t.Fatalf("power on: %d\n%s\n%s", code, out, errOut)
		}
		if !ipmiSim.Power() || !rfSim.Power() {
			t.Fatalf("after power on: ipmi01 %v, rf01 %v", ipmiSim.Power(), rfSim.Power())
		}
		out, _, code = ssh("alice", "power", "status", "rack=r1", "--json")
		var res []struct {
			BMC   string `json:"bmc"`
			OK    bool   `json:"ok"`
			Power string `json:"power"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || len(res) != 2 {
			t.Fatalf("status --json: %v %d\n%s", err, code, out)
		}
		for _, r := range res {
			if !r.OK || r.Power != "on" {
				t.Errorf("status %+v", r)
			}
		}
		out, errOut, code = ssh("alice", "power", "off", "rf01")
		if code != 0 || rfSim.Power() || !strings.Contains(out, "rf01") {
			t.Fatalf("power off rf01: %d %v\n%s\n%s", code, rfSim.Power(), out, errOut)
		}
		if resets := rf.Resets(); len(resets) == 0 || resets[len(resets)-1] != "ForceOff" {
			t.Errorf("Redfish resets %v", resets)
		}
	})

	t.Run("info", func(t *testing.T) {
		out, errOut, code := ssh("vic", "info", "rf01", "--json")
		var r struct {
			OK     bool `json:"ok"`
			Result struct {
				Protocol string          `json:"protocol"`
				Device   json.RawMessage `json:"device"`
				System   struct {
					Model       string `json:"model"`
					BIOSVersion string `json:"bios_version"`
				} `json:"system"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK {
			t.Fatalf("info --json: %v %d\n%s\n%s", err, code, out, errOut)
		}
		if r.Result.Protocol != "redfish" || r.Result.System.Model == "" || r.Result.System.BIOSVersion == "" || r.Result.Device != nil {
			t.Errorf("info %+v", r.Result)
		}
		out, _, code = ssh("vic", "info", "ipmi01", "--json")
		if code != 0 || !strings.Contains(out, `"protocol": "ipmi"`) || !strings.Contains(out, `"device"`) {
			t.Errorf("ipmi info:\n%s", out)
		}
		out, _, code = ssh("vic", "info", "rf01")
		if code != 0 || !strings.Contains(out, "model:") || !strings.Contains(out, "bios:") {
			t.Errorf("info text:\n%s", out)
		}
	})

	t.Run("sensors and event log, same table on both", func(t *testing.T) {
		for _, bmc := range []string{"ipmi01", "rf01"} {
			out, errOut, code := ssh("vic", "sensors", bmc)
			if code != 0 || !strings.HasPrefix(out, "SENSOR") || strings.Count(out, "\n") < 2 {
				t.Errorf("sensors %s: %d\n%s\n%s", bmc, code, out, errOut)
			}
			out, errOut, code = ssh("vic", "sel", "list", bmc, "--limit", "5")
			if code != 0 || !(strings.HasPrefix(out, "ID") || strings.Contains(out, "event log is empty")) {
				t.Errorf("sel %s: %d\n%s\n%s", bmc, code, out, errOut)
			}
		}
		out, _, code := ssh("vic", "sensors", "rf01", "--json")
		if code != 0 || !strings.Contains(out, `"name"`) || !strings.Contains(out, `"status"`) {
			t.Errorf("sensors --json:\n%s", out)
		}
	})

	t.Run("boot override on both transports", func(t *testing.T) {
		out, errOut, code := ssh("alice", "boot", "rack=r1", "pxe", "--persistent", "--uefi")
		if code != 0 || !strings.Contains(out, "ipmi01") || !strings.Contains(out, "rf01") || !strings.Contains(out, "boot pxe persistent uefi") {
			t.Fatalf("boot set: %d\n%s\n%s", code, out, errOut)
		}
		for _, bmc := range []string{"ipmi01", "rf01"} {
			out, _, code := ssh("vic", "boot", bmc)
			if code == 0 {
				t.Errorf("viewer read the boot override of %s without boot.read:\n%s", bmc, out)
			}
			out, errOut, code = ssh("alice", "boot", bmc, "--json")
			var r struct {
				OK     bool `json:"ok"`
				Result struct {
					Target, Enabled, Mode, Protocol string
				} `json:"result"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.Result.Target != "pxe" || r.Result.Enabled != "persistent" || r.Result.Mode != "uefi" {
				t.Errorf("boot %s: %v %d %+v\n%s\n%s", bmc, err, code, r, out, errOut)
			}
		}
		// rf01 was set through Redfish; its IPMI side reads the same
		// override (the simulated host is shared).
		out, _, code = runCmd(t, nil, "ipmitool", "-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p", fmt.Sprint(rfSim.Port()),
			"-U", "unused", "-P", "unused-Pass-1", "-L", "OPERATOR", "chassis", "bootparam", "get", "5")
		if code != 0 || !strings.Contains(out, "Force PXE") || !strings.Contains(out, "BIOS EFI boot") {
			t.Errorf("ipmitool reads rf01's override set through Redfish:\n%s", out)
		}
		_, errOut, code = ssh("alice", "boot", "rf01", "floppy")
		if code != 2 {
			t.Errorf("unknown target: %d %s", code, errOut)
		}
	})
}
