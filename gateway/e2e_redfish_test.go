package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// redfishBMCEntry is the config entry of a Redfish-only BMC (no ipmi
// section) for a simulated BMC's Redfish service; it continues the
// harness's bmcs list.
func redfishBMCEntry(t *testing.T, dir, name string, rf *bmcsim.Redfish, user, pass, labels string) string {
	return redfishBMCEntryTB(t, dir, name, rf, user, pass, labels)
}

// redfishBMCEntryTB is redfishBMCEntry for benchmarks too.
func redfishBMCEntryTB(t testing.TB, dir, name string, rf *bmcsim.Redfish, user, pass, labels string) string {
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
	rfSim := startSim(t, "rf01", bmcsim.Options{Username: "unused", Password: "unused-Pass-1", CipherSuites: []int{17}, Sensors: true})
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
		// The other operations, each its ResetType.
		for _, op := range []struct{ sub, reset string }{{"on", "On"}, {"cycle", "PowerCycle"}, {"reset", "ForceRestart"}, {"soft", "GracefulShutdown"}} {
			out, errOut, code := ssh("alice", "power", op.sub, "rf01")
			if code != 0 || !strings.Contains(out, "power "+op.sub) {
				t.Fatalf("power %s rf01: %d\n%s\n%s", op.sub, code, out, errOut)
			}
			if resets := rf.Resets(); resets[len(resets)-1] != op.reset {
				t.Errorf("power %s sent %v", op.sub, resets)
			}
		}
	})

	t.Run("info", func(t *testing.T) {
		out, errOut, code := ssh("vic", "info", "rf01", "--json")
		var r struct {
			OK     bool `json:"ok"`
			Result struct {
				Address  string          `json:"address"`
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
		// A Redfish-only BMC is shown where commands reach it: its Redfish
		// service, not the IPMI port it never uses.
		if r.Result.Address != rf.URL() {
			t.Errorf("info --json address %q, want %q", r.Result.Address, rf.URL())
		}
		if out, _, _ := ssh("vic", "info", "rf01"); !strings.Contains(out, "address:       "+rf.URL()+"\n") || strings.Contains(out, ":623") {
			t.Errorf("info rf01:\n%s", out)
		}
		if out, _, _ := ssh("vic", "list"); !strings.Contains(out, rf.URL()) || !strings.Contains(out, ipmiSim.Addr()) {
			t.Errorf("list:\n%s", out)
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
		// --json: the same fields for both transports, thresholds and
		// all, and what each BMC reports kept.
		type sensorsJSON struct {
			OK     bool             `json:"ok"`
			Result []map[string]any `json:"result"`
		}
		shapes := map[string]string{}
		cpu := map[string]map[string]any{}
		for _, bmc := range []string{"ipmi01", "rf01"} {
			out, _, code := ssh("vic", "sensors", bmc, "--json")
			var r sensorsJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK || len(r.Result) == 0 {
				t.Fatalf("sensors %s --json: %v %d\n%s", bmc, err, code, out)
			}
			shapes[bmc] = jsonShape(r.Result[0])
			for _, x := range r.Result {
				if x["name"] == "CPU Temp" {
					cpu[bmc] = x
				}
			}
		}
		if shapes["ipmi01"] != shapes["rf01"] {
			t.Errorf("sensor JSON differs:\nipmi    %s\nredfish %s", shapes["ipmi01"], shapes["rf01"])
		}
		for bmc, x := range cpu {
			th, _ := x["thresholds"].(map[string]any)
			if x["reading"] != 45.0 || th["upper_critical"] != 90.0 || th["upper_non_critical"] != 80.0 || x["state"] != "enabled" {
				t.Errorf("%s CPU Temp: %v", bmc, x)
			}
		}
		if cpu["rf01"]["health"] != "ok" || cpu["ipmi01"]["health"] != "ok" {
			t.Errorf("health: Redfish %v, IPMI %v", cpu["rf01"]["health"], cpu["ipmi01"]["health"])
		}
		out, _, _ := ssh("vic", "sensors", "ipmi01")
		if !strings.Contains(out, "THRESHOLDS") || !strings.Contains(out, "lower -/-/- upper 80/90/-") {
			t.Errorf("sensors table without thresholds:\n%s", out)
		}

		// sel list: newest first, --limit, a string id and the log service
		// it came from, the same fields on both.
		ipmiSim.AddSEL(bmcsim.SELEvent{SensorType: 0x01, SensorNumber: 0x01, EventType: 0x01, Data: [3]byte{0x09, 0x5a, 0x5a}})
		rfSim.AddSEL(bmcsim.SELEvent{SensorType: 0x01, SensorNumber: 0x01, EventType: 0x01, Data: [3]byte{0x09, 0x5a, 0x5a}})
		for _, bmc := range []string{"ipmi01", "rf01"} {
			out, _, code := ssh("vic", "sel", "list", bmc, "--limit", "3", "--json")
			var r sensorsJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK || len(r.Result) != 3 {
				t.Fatalf("sel %s --json: %v %d\n%s", bmc, err, code, out)
			}
			shapes["sel "+bmc] = jsonShape(r.Result[0])
			newest := r.Result[0]
			if newest["severity"] != "critical" || newest["direction"] != "asserted" || !strings.Contains(newest["message"].(string), "Upper Critical") {
				t.Errorf("%s newest entry: %v", bmc, newest)
			}
			for i := 1; i < len(r.Result); i++ {
				a, b := r.Result[i-1]["time"].(string), r.Result[i]["time"].(string)
				if a != "" && b != "" && a < b {
					t.Errorf("%s entries not newest first: %v", bmc, r.Result)
				}
			}
			if log := newest["log"].(string); (bmc == "ipmi01") != (log == "sel") || bmc == "rf01" && !strings.HasPrefix(log, "system/") {
				t.Errorf("%s log %q", bmc, log)
			}
			text, _, _ := ssh("vic", "sel", "list", bmc, "--limit", "1")
			if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "SEVERITY") || !strings.Contains(lines[1], "critical") {
				t.Errorf("sel list %s --limit 1:\n%s", bmc, text)
			}
		}
		// sel clear over Redfish: the system's log, not the manager's.
		if _, errOut, code := ssh("vic", "sel", "clear", "rf01"); code != 1 || !strings.Contains(errOut, "denied") {
			t.Errorf("viewer sel clear: %d %s", code, errOut)
		}
		if out, errOut, code := ssh("alice", "sel", "clear", "rf01"); code != 0 || !strings.Contains(out, "event log cleared") || rfSim.SELCount() != 0 {
			t.Errorf("sel clear rf01: %d %d records left\n%s\n%s", code, rfSim.SELCount(), out, errOut)
		}
		if out, _, _ := ssh("vic", "sel", "list", "rf01"); strings.Contains(out, "system/") || !strings.Contains(out, "manager/") {
			t.Errorf("after sel clear:\n%s", out)
		}
		if shapes["sel ipmi01"] != shapes["sel rf01"] {
			t.Errorf("log entry JSON differs:\nipmi    %s\nredfish %s", shapes["sel ipmi01"], shapes["sel rf01"])
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

// TestE2ERedfishMedia inserts an image of the gateway's library into a
// simulated Redfish BMC through OpenSSH: the BMC fetches it (in ranges)
// from the gateway's image listener, byte count and SHA-256 match, every
// fetch is audited, and the one-time URL is refused from another address
// and after the eject.
func TestE2ERedfishMedia(t *testing.T) {
	const rfPass = "rf-Media-Pass-3"
	lib := startRedfishLibrary(t, "rf02", rfPass, 3<<20+123)
	rf, data, listen, extra := lib.rf, lib.data, lib.listen, lib.config
	sum := sha256.Sum256(data)
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}}, extra)

	out, errOut, code := h.ssh("alice", nil, "media", "rf02")
	if code != 0 || !strings.Contains(out, "CD1") {
		t.Fatalf("media list: %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code := h.ssh("vic", nil, "media", "insert", "rf02", "debian-12"); code == 0 {
		t.Fatal("viewer inserted media")
	}
	for _, bad := range []string{"../images/debian-12", "https://evil.example/x.iso", "broken"} {
		_, errOut, code := h.ssh("alice", nil, "media", "insert", "rf02", bad)
		if code == 0 {
			t.Fatalf("insert of %q accepted", bad)
		}
		if bad == "broken" && !strings.Contains(errOut, "does not match its SHA-256") {
			t.Errorf("checksum mismatch: %s", errOut)
		}
	}
	out, errOut, code = h.ssh("alice", nil, "media", "insert", "rf02", "debian-12")
	if code != 0 || !strings.Contains(out, "debian-12 inserted in CD1") {
		t.Fatalf("insert: %d\n%s\n%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	got, err := rf.WaitMedia(ctx, "CD1")
	if err != nil || got.Err != "" || got.Bytes != int64(len(data)) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("the BMC fetched %+v (%v)", got, err)
	}
	if got.Ranges < 2 {
		t.Errorf("the BMC read %d ranges", got.Ranges)
	}
	url := got.Image
	if !strings.HasPrefix(url, "https://"+listen+"/media/") {
		t.Fatalf("the BMC was given %q", url)
	}
	out, _, _ = h.ssh("alice", nil, "media", "rf02", "--json")
	if strings.Contains(out, url) || !strings.Contains(out, `"gateway": true`) {
		t.Errorf("media list shows the one-time URL or not its origin:\n%s", out)
	}
	// The same URL from another address is refused.
	other := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext,
	}}
	resp, err := other.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("fetch from 127.0.0.2: %d", resp.StatusCode)
	}
	// Every fetch is audited with its bytes and client.
	var served int64
	refused := 0
	for _, r := range h.records(t, audit.Query{Code: audit.CodeMediaFetch}) {
		if r.Outcome == audit.OutcomeOK && r.Source == "127.0.0.1" && r.Target == "rf02" {
			n, _ := strconv.ParseInt(r.Fields["bytes"], 10, 64)
			served += n
		}
		if r.Outcome == audit.OutcomeDeny && r.Source == "127.0.0.2" {
			refused++
		}
	}
	if served < int64(len(data)) || refused != 1 {
		t.Errorf("audited: %d bytes served, %d refusals", served, refused)
	}
	out, errOut, code = h.ssh("alice", nil, "media", "eject", "rf02")
	if code != 0 || !strings.Contains(out, "ejected from CD1") {
		t.Fatalf("eject: %d\n%s\n%s", code, out, errOut)
	}
	local := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err = local.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("fetch after eject: %d", resp.StatusCode)
	}
	for _, r := range h.records(t, audit.Query{}) {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), rfPass) || strings.Contains(string(b), strings.TrimPrefix(url, "https://"+listen+"/media/")[:20]) {
			t.Errorf("a secret in the audit record %s", b)
		}
	}
}

// TestE2ERedfishReloadLogsOut: a reload that removes a Redfish BMC logs
// the gateway out of its warm session; one that keeps it leaves the
// session alone.
func TestE2ERedfishReloadLogsOut(t *testing.T) {
	sim := startSim(t, "rf06", bmcsim.Options{Username: "unused", Password: "unused-Pass-1"})
	const pass = "rf-Reload-Pass-2"
	rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	ipmiSim := startSim(t, "ipmi02", bmcsim.Options{Username: "gw", Password: "ipmi-Pass-2", CipherSuites: []int{17}})
	h := startHarness(t, []testBMC{{name: "ipmi02", addr: ipmiSim.Addr(), user: "gw", pass: "ipmi-Pass-2", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}}, redfishBMCEntry(t, t.TempDir(), "rf06", rf, "gw", pass, "{}"))
	if out, errOut, code := h.ssh("alice", nil, "power", "status", "rf06"); code != 0 {
		t.Fatalf("power status: %d\n%s\n%s", code, out, errOut)
	}
	if n := rf.Sessions(); n != 1 {
		t.Fatalf("%d Redfish sessions after a command, want the warm one", n)
	}
	path := h.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A reload that keeps the BMC keeps its session.
	if err := h.g.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := rf.Sessions(); n != 1 {
		t.Errorf("%d sessions after a reload that kept the BMC", n)
	}
	i := strings.Index(string(orig), "  - name: rf06\n")
	if i < 0 {
		t.Fatal("no rf06 entry")
	}
	if err := os.WriteFile(path, []byte(string(orig)[:i]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Forget logs out in the background, bounded by its own timeout.
	deadline := time.Now().Add(10 * time.Second)
	for rf.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still %d Redfish sessions after the BMC left the config", rf.Sessions())
		}
		time.Sleep(20 * time.Millisecond) // polling the simulated BMC with a deadline
	}
	if _, errOut, code := h.ssh("alice", nil, "power", "status", "rf06"); code == 0 || !strings.Contains(errOut, "unknown BMC") {
		t.Errorf("removed BMC: %d %s", code, errOut)
	}
}

// jsonShape lists the keys of a decoded JSON object, nested objects'
// keys as "a.b", sorted: two values with the same shape have the same
// fields.
func jsonShape(m map[string]any) string {
	var keys []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			keys = append(keys, prefix+k)
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			}
		}
	}
	walk("", m)
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

// redfishLibrary is a simulated Redfish-only BMC with an image library
// for it.
type redfishLibrary struct {
	sim    *bmcsim.BMC
	rf     *bmcsim.Redfish
	data   []byte // the image debian-12
	listen string // the image listener's address
	config string // the BMC's entry (continuing the bmcs list) and the images section
}

// startRedfishLibrary starts a simulated BMC name whose Redfish service
// takes gw/pass (its IPMI side unused: user "unused", "unused-Pass-1")
// and writes a library of two images: debian-12 (size bytes) and broken
// (the same file under a wrong SHA-256).
func startRedfishLibrary(t *testing.T, name, pass string, size int) redfishLibrary {
	t.Helper()
	sim := startSim(t, name, bmcsim.Options{Username: "unused", Password: "unused-Pass-1", CipherSuites: []int{17}})
	rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	dir := t.TempDir()
	imgDir := filepath.Join(dir, "images")
	if err := os.Mkdir(imgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 31 / 7)
	}
	if err := os.WriteFile(filepath.Join(imgDir, "debian-12.iso"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	listen := freeTCPAddr(t)
	cfg := redfishBMCEntry(t, dir, name, rf, "gw", pass, "{rack: r1}") + fmt.Sprintf(`images:
  dir: %q
  listen: %q
  files:
    - name: debian-12
      file: debian-12.iso
      sha256: %s
    - name: broken
      file: debian-12.iso
      sha256: %s
`, imgDir, listen, hex.EncodeToString(sum[:]), strings.Repeat("ab", 32))
	return redfishLibrary{sim: sim, rf: rf, data: data, listen: listen, config: cfg}
}

// TestE2ERedfishResetTypes: through OpenSSH, a Redfish BMC whose Reset
// lacks PowerCycle is cycled as off, then on, and the user is told so;
// one lacking the reset type an operation needs is refused with what it
// supports, and nothing is sent.
func TestE2ERedfishResetTypes(t *testing.T) {
	const pass = "rf-Reset-Pass-4"
	sim := startSim(t, "rf08", bmcsim.Options{Username: "unused", Password: "unused-Pass-1", PowerOn: true})
	rf, err := sim.StartRedfish(t.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass,
		ResetTypes: []string{"On", "ForceOff", "ForceRestart"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, redfishBMCEntry(t, t.TempDir(), "rf08", rf, "gw", pass, "{}"))
	out, errOut, code := h.ssh("alice", nil, "power", "cycle", "rf08")
	if code != 0 || !strings.Contains(out, "the BMC has no PowerCycle: sent ForceOff, then On") {
		t.Fatalf("power cycle without PowerCycle: %d\n%s\n%s", code, out, errOut)
	}
	if r := rf.Resets(); strings.Join(r, ",") != "ForceOff,On" || !sim.Power() {
		t.Errorf("resets %v, power %v", r, sim.Power())
	}
	out, errOut, code = h.ssh("alice", nil, "power", "soft", "rf08")
	if code != 1 || !strings.Contains(errOut, "On, ForceOff, ForceRestart") {
		t.Errorf("power soft without GracefulShutdown: %d\n%s\n%s", code, out, errOut)
	}
	if r := rf.Resets(); len(r) != 2 {
		t.Errorf("a refused operation was sent: %v", r)
	}
}
