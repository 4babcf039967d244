package bmcsim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

const rfTestPass = "sim-Redfish-pw-1"

// startRedfishSim starts a BMC (sensors on, powered on) and its Redfish
// service.
func startRedfishSim(t *testing.T, o RedfishOptions) (*BMC, *Redfish) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	b, err := Start(ctx, "rf01", Options{Password: "ipmi-pw", Sensors: true, PowerOn: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if o.Password == "" {
		o.Password = rfTestPass
	}
	rf, err := b.StartRedfish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rf.Close() })
	return b, rf
}

// imageServer serves a pseudo-random image with range support.
func imageServer(t *testing.T, size int) (*httptest.Server, []byte) {
	t.Helper()
	img := make([]byte, size)
	for i := range img {
		img[i] = byte(i*7 + i/251)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "install.iso", time.Unix(0, 0), strings.NewReader(string(img)))
	}))
	t.Cleanup(srv.Close)
	return srv, img
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sushyPython returns a Python interpreter that can import sushy.
func sushyPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import sushy").Run() == nil {
			return py
		}
	}
	if os.Getenv(ipmisim.RequirePeersEnv) != "" {
		t.Fatalf("python3-sushy is required (%s is set) but no python3 imports it", ipmisim.RequirePeersEnv)
	}
	t.Skip("python3-sushy not installed")
	return ""
}

// TestSushyAgainstSimulator drives the simulated Redfish service with
// OpenStack's sushy: power, boot override, system, sensors, manager,
// virtual media (the simulator really fetches the image), event log and
// session login/logout.
func TestSushyAgainstSimulator(t *testing.T) {
	py := sushyPython(t)
	b, rf := startRedfishSim(t, RedfishOptions{})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rf.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte(rfTestPass), 0o600); err != nil {
		t.Fatal(err)
	}
	imgSrv, img := imageServer(t, 3<<20+12345)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/sushy_client.py", rf.URL(), "admin", pw, ca, imgSrv.URL+"/install.iso")
	// requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the verify
	// argument: point both at the simulator's certificate.
	cmd.Env = append(withoutEnv(os.Environ(), "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"),
		"PYTHONDONTWRITEBYTECODE=1", "REQUESTS_CA_BUNDLE="+ca, "CURL_CA_BUNDLE="+ca)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("sushy: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		PowerBefore, PowerAfterOff, PowerAfterOn string             `json:"-"`
		Before                                   string             `json:"power_before"`
		AfterOff                                 string             `json:"power_after_off"`
		AfterOn                                  string             `json:"power_after_on"`
		Resets                                   []string           `json:"allowed_resets"`
		Boot                                     []string           `json:"boot"`
		System                                   map[string]string  `json:"system"`
		Temps                                    map[string]float64 `json:"temperatures"`
		Fans                                     map[string]float64 `json:"fans"`
		Firmware                                 string             `json:"firmware"`
		Inserted                                 []any              `json:"media_inserted"`
		Ejected                                  []any              `json:"media_ejected"`
		LogEntries                               int                `json:"log_entries"`
		Sessions                                 int                `json:"sessions_open"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("sushy output %q: %v", out, err)
	}
	if got.Before != "On" || got.AfterOff != "Off" || got.AfterOn != "On" {
		t.Errorf("power seen by sushy: %s, %s, %s; want On, Off, On", got.Before, got.AfterOff, got.AfterOn)
	}
	if !b.Power() {
		t.Error("the simulated host is off after sushy powered it on")
	}
	if !strings.Contains(strings.Join(got.Resets, ","), "PowerCycle") {
		t.Errorf("reset types sushy learned: %v", got.Resets)
	}
	if strings.Join(got.Boot, " ") != "Cd Once UEFI" {
		t.Errorf("boot override read back by sushy = %v", got.Boot)
	}
	if tgt, en, mode := rf.bootState(); tgt != "Cd" || en != "Once" || mode != "UEFI" {
		t.Errorf("boot flags on the IPMI side = %s %s %s", tgt, en, mode)
	}
	if got.System["serial"] == "" || got.System["manufacturer"] != "Contoso" || got.Firmware == "" {
		t.Errorf("system/manager as sushy read them: %v, firmware %q", got.System, got.Firmware)
	}
	if got.Temps["CPU Temp"] != 45 || got.Fans["FAN1"] != 5400 {
		t.Errorf("sensors as sushy read them: %v %v", got.Temps, got.Fans)
	}
	if got.Inserted[0] != true || got.Inserted[1] != imgSrv.URL+"/install.iso" || got.Ejected[0] != false || got.Ejected[1] != nil {
		t.Errorf("virtual media as sushy saw it: inserted %v, ejected %v", got.Inserted, got.Ejected)
	}
	if got.LogEntries < 3 {
		t.Errorf("%d event log entries, want the SEL's", got.LogEntries)
	}
	if got.Sessions != 1 {
		t.Errorf("sushy saw %d sessions, want its own", got.Sessions)
	}
	if n := rf.Sessions(); n != 0 {
		t.Errorf("%d sessions open after sushy logged out", n)
	}
	if ok, _ := rf.Logins(); ok != 1 {
		t.Errorf("%d logins, want 1", ok)
	}
	// The image was fetched with ranges before the eject stopped it, or
	// completely; whatever was read matches the image.
	f := rf.Media("CD1")
	if f.Ranges < 1 || f.Bytes < 1 {
		t.Errorf("media fetch %+v", f)
	}
	if f.Done && f.Err == "" && f.SHA256 != sha(img) {
		t.Errorf("fetched SHA-256 %s, want %s", f.SHA256, sha(img))
	}
}

// redfishtool runs Debian's redfishtool against rf.
func redfishtool(t *testing.T, rf *Redfish, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	full := append([]string{"-r", rf.Addr(), "-u", "admin", "-p", rfTestPass, "-S", "Always", "-A", "Session", "-T", "20"}, args...)
	cmd := exec.CommandContext(ctx, "redfishtool", full...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redfishtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestRedfishtoolAgainstSimulator drives the simulated Redfish service with
// the DMTF's redfishtool (Debian package): each run logs in with a session
// and logs out again.
func TestRedfishtoolAgainstSimulator(t *testing.T) {
	ipmisim.RequireBinaries(t, "redfishtool")
	b, rf := startRedfishSim(t, RedfishOptions{})
	var sys map[string]any
	if err := json.Unmarshal(redfishtool(t, rf, "Systems", "-1"), &sys); err != nil {
		t.Fatalf("Systems: %v", err)
	}
	if sys["PowerState"] != "On" || sys["Id"] != systemID {
		t.Errorf("Systems: PowerState %v Id %v", sys["PowerState"], sys["Id"])
	}
	redfishtool(t, rf, "Systems", "-1", "reset", "ForceOff")
	if b.Power() {
		t.Error("host still on after redfishtool ForceOff")
	}
	redfishtool(t, rf, "Systems", "-1", "reset", "On")
	redfishtool(t, rf, "Systems", "-1", "reset", "PowerCycle")
	if !b.Power() || b.PowerCycles() != 1 {
		t.Errorf("after On and PowerCycle: power %v, cycles %d", b.Power(), b.PowerCycles())
	}
	redfishtool(t, rf, "Systems", "-1", "setBootOverride", "Continuous", "Pxe")
	var boot struct {
		Boot map[string]any
	}
	if err := json.Unmarshal(redfishtool(t, rf, "Systems", "-1"), &boot); err != nil {
		t.Fatal(err)
	}
	if boot.Boot["BootSourceOverrideTarget"] != "Pxe" || boot.Boot["BootSourceOverrideEnabled"] != "Continuous" {
		t.Errorf("boot override read back: %v", boot.Boot)
	}
	// "Chassis Sensors" prints a table of the Sensors collection.
	out := string(redfishtool(t, rf, "Chassis", "-1", "Sensors"))
	for _, want := range []string{"CPUTemp", "InletTemp", "FAN1", "12V", "3_3V", "12.06"} {
		if !strings.Contains(out, want) {
			t.Errorf("Chassis Sensors lacks %q:\n%s", want, out)
		}
	}
	b.SetSensor(1, 92) // CPU Temp over its critical threshold, on the IPMI side
	var thermal struct {
		Temperatures []map[string]any
	}
	if err := json.Unmarshal(redfishtool(t, rf, "Chassis", "-1", "Thermal"), &thermal); err != nil {
		t.Fatal(err)
	}
	if len(thermal.Temperatures) == 0 || thermal.Temperatures[0]["ReadingCelsius"] != 92.0 ||
		thermal.Temperatures[0]["Status"].(map[string]any)["Health"] != "Critical" {
		t.Errorf("Thermal after the IPMI-side change: %v", thermal.Temperatures)
	}
	var logs struct {
		Members []map[string]any
	}
	if err := json.Unmarshal(redfishtool(t, rf, "Systems", "-1", "Logs", "-i", "Log1", "-E"), &logs); err != nil {
		t.Fatal(err)
	}
	if len(logs.Members) != b.SELCount() || len(logs.Members) < 5 {
		t.Errorf("%d log entries via redfishtool, SEL has %d", len(logs.Members), b.SELCount())
	}
	imgSrv, img := imageServer(t, 2<<20+77)
	redfishtool(t, rf, "raw", "POST", sysPath+"/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia",
		"-d", `{"Image":"`+imgSrv.URL+`/install.iso","Inserted":true,"WriteProtected":true}`)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	f, err := rf.WaitMedia(ctx, "CD1")
	if err != nil || f.Err != "" || f.Bytes != int64(len(img)) || f.SHA256 != sha(img) || f.Ranges < 3 {
		t.Errorf("image fetch: %+v, %v (want %d bytes, %s)", f, err, len(img), sha(img))
	}
	redfishtool(t, rf, "raw", "POST", sysPath+"/VirtualMedia/CD1/Actions/VirtualMedia.EjectMedia", "-d", `{}`)
	var cd map[string]any
	if err := json.Unmarshal(redfishtool(t, rf, "raw", "GET", sysPath+"/VirtualMedia/CD1"), &cd); err != nil {
		t.Fatal(err)
	}
	if cd["Inserted"] != false {
		t.Errorf("CD1 after eject: %v", cd)
	}
	if n := rf.Sessions(); n != 0 {
		t.Errorf("%d sessions left open by redfishtool", n)
	}
	if ok, failed := rf.Logins(); ok < 10 || failed != 0 {
		t.Errorf("logins: %d ok, %d failed", ok, failed)
	}
}

// TestRedfishtoolWrongPassword: the simulator checks credentials.
func TestRedfishtoolWrongPassword(t *testing.T) {
	ipmisim.RequireBinaries(t, "redfishtool")
	_, rf := startRedfishSim(t, RedfishOptions{})
	cmd := exec.CommandContext(t.Context(), "redfishtool", "-r", rf.Addr(), "-u", "admin", "-p", "wrong", "-S", "Always", "-A", "Session", "Systems")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("redfishtool with a wrong password succeeded:\n%s", out)
	}
	if _, failed := rf.Logins(); failed != 1 {
		t.Errorf("%d failed logins, want 1", failed)
	}
	// Basic authentication is checked as well.
	cmd = exec.CommandContext(t.Context(), "redfishtool", "-r", rf.Addr(), "-u", "admin", "-p", "wrong", "-S", "Always", "-A", "Basic", "Systems", "-1")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("Basic auth with a wrong password succeeded:\n%s", out)
	}
	cmd = exec.CommandContext(t.Context(), "redfishtool", "-r", rf.Addr(), "-u", "admin", "-p", rfTestPass, "-S", "Always", "-A", "Basic", "Systems", "-1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("Basic auth with the right password: %v\n%s", err, out)
	}
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, e := range env {
		drop := false
		for _, n := range names {
			drop = drop || strings.HasPrefix(e, n+"=")
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}
