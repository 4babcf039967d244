package redfish

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

func ipmiEndpoint(s *simBMC) ipmi.Endpoint {
	return ipmi.Endpoint{Name: "node01", Host: s.bmc.Host(), Port: s.bmc.Port(), Username: "admin", Password: "ipmi-pw", CipherSuite: 3}
}

// TestPowerSharedWithIPMI: every power operation through Redfish changes
// the host the IPMI side reports, and the ResetType sent is the mapped one.
func TestPowerSharedWithIPMI(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, logs := newBroker(t, Options{})
	ib := ipmi.NewBroker(ipmi.Options{})
	t.Cleanup(func() { _ = ib.Close() })
	ctx := t.Context()
	steps := []struct {
		op    PowerOp
		reset string
		on    bool
	}{
		{PowerOff, "ForceOff", false},
		{PowerOn, "On", true},
		{PowerCycle, "PowerCycle", true},
		{PowerReset, "ForceRestart", true},
		{PowerSoft, "GracefulShutdown", false},
	}
	for _, st := range steps {
		res, err := b.Power(ctx, s.ep, st.op)
		if err != nil {
			t.Fatalf("power %s: %v", st.op, err)
		}
		if strings.Join(res.ResetTypes, ",") != st.reset || res.Note != "" {
			t.Errorf("power %s sent %v (%q), want %s", st.op, res.ResetTypes, res.Note, st.reset)
		}
		want := map[bool]PowerState{true: PowerStateOn, false: PowerStateOff}[st.on]
		if got, err := b.PowerStatus(ctx, s.ep); err != nil || got != want {
			t.Errorf("after %s: Redfish says %v, %v; want %v", st.op, got, err, want)
		}
		if got, err := ib.PowerStatus(ctx, ipmiEndpoint(s)); err != nil || got != want {
			t.Errorf("after %s: IPMI says %v, %v; want %v", st.op, got, err, want)
		}
	}
	if s.bmc.PowerCycles() != 1 {
		t.Errorf("%d power cycles, want 1", s.bmc.PowerCycles())
	}
	st := b.Stats()
	if st.Logins != 1 || st.Sessions != 1 {
		t.Errorf("stats %+v: want one login, one warm session", st)
	}
	noSecrets(t, []string{logs.String()}, simPass)
}

// TestCycleWithoutPowerCycle: a BMC without PowerCycle is cycled with
// ForceOff, then On, and the result says so. The ActionInfo is missing
// (only inline allowable values) or broken (404): both work.
func TestCycleWithoutPowerCycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    bmcsim.RedfishOptions
	}{
		{"no ActionInfo", bmcsim.RedfishOptions{NoActionInfo: true}},
		{"ActionInfo answers 404", bmcsim.RedfishOptions{BrokenActionInfo: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.ResetTypes = []string{"On", "ForceOff", "GracefulShutdown", "ForceRestart"}
			s := startSim(t, tc.o)
			b, _ := newBroker(t, Options{})
			res, err := b.Power(t.Context(), s.ep, PowerCycle)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(res.ResetTypes, ",") != "ForceOff,On" || !strings.Contains(res.Note, "no PowerCycle") {
				t.Errorf("cycle = %+v", res)
			}
			if got := strings.Join(s.rf.Resets(), ","); got != "ForceOff,On" || !s.bmc.Power() {
				t.Errorf("BMC received %s, power %v", got, s.bmc.Power())
			}
			got, err := b.SupportedResetTypes(t.Context(), s.ep)
			if err != nil || strings.Join(got, ",") != "On,ForceOff,GracefulShutdown,ForceRestart" {
				t.Errorf("supported reset types %v, %v", got, err)
			}
			// With the host off, a cycle is refused as on IPMI.
			s.bmc.SetPower(false)
			if _, err := b.Power(t.Context(), s.ep, PowerCycle); err == nil || !strings.Contains(err.Error(), "not on") {
				t.Errorf("cycle while off: %v", err)
			}
		})
	}
}

// TestUnsupportedResetType: a reset type the BMC lacks is refused before
// anything is sent, naming what it supports.
func TestUnsupportedResetType(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{ResetTypes: []string{"On", "ForceRestart"}})
	b, _ := newBroker(t, Options{})
	_, err := b.Power(t.Context(), s.ep, PowerSoft)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "it supports: On, ForceRestart") {
		t.Fatalf("soft on a BMC without GracefulShutdown: %v", err)
	}
	if _, err := b.Power(t.Context(), s.ep, PowerCycle); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("cycle without PowerCycle or ForceOff+On: %v", err)
	}
	if len(s.rf.Resets()) != 0 {
		t.Errorf("resets sent: %v", s.rf.Resets())
	}
	if _, err := b.Power(t.Context(), s.ep, "explode"); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown op: %v", err)
	}
}

// TestInfoSensorsSEL reads identity, sensors (Sensors collection and the
// Thermal/Power fallback) and the event log, which the IPMI side shares.
func TestInfoSensorsSEL(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, _ := newBroker(t, Options{})
	ctx := t.Context()
	info, err := b.Info(ctx, s.ep)
	if err != nil {
		t.Fatal(err)
	}
	if info.Manufacturer != "Contoso" || info.Model != "3500" || info.BIOSVersion == "" || info.FirmwareVersion != "1.45.455b66-rev4" ||
		info.Health != "ok" || info.PowerState != PowerStateOn || info.SystemID != "437XR1138R2" || info.ManagerID != "BMC" || info.SerialNumber == "" {
		t.Errorf("info %+v", info)
	}
	s.bmc.SetSensor(1, 85)  // CPU Temp: above upper non-critical (80)
	s.bmc.SetSensor(5, 222) // 12V: above upper critical
	sens, err := b.Sensors(ctx, s.ep)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Sensor{}
	for _, x := range sens {
		byName[x.Name] = x
	}
	if c := byName["CPU Temp"]; c.Value != "85" || c.Unit != "degrees C" || c.Status != "warning" || c.Thresholds == nil || *c.Thresholds.UpperCritical != 90 {
		t.Errorf("CPU Temp %+v", c)
	}
	if v := byName["12V"]; v.Status != "critical" || v.Unit != "Volts" || v.Type != "Voltage" {
		t.Errorf("12V %+v", v)
	}
	if f := byName["FAN1"]; f.Value != "5400" || f.Unit != "RPM" || f.Status != "ok" {
		t.Errorf("FAN1 %+v", f)
	}
	if len(sens) != 6 {
		t.Errorf("%d sensors, want 6", len(sens))
	}
	if info, _ := b.Info(ctx, s.ep); info.Health != "critical" {
		t.Errorf("health with a critical sensor: %q", info.Health)
	}

	id := s.bmc.AddSEL(bmcsim.SELEvent{SensorType: 0x01, SensorNumber: 0x01, EventType: 0x01, Data: [3]byte{0x09, 0x5a, 0x5a}})
	sel, err := b.SEL(ctx, s.ep, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 2 || sel[0].ID != strconv.Itoa(int(id)) || sel[0].Severity != "critical" || sel[0].Direction != "asserted" || sel[0].Log != "system/Log1" {
		t.Errorf("newest entries %+v", sel)
	}
	all, _ := b.SEL(ctx, s.ep, 0)
	if len(all) != s.bmc.SELCount()+1 { // plus the manager's log entry
		t.Errorf("%d entries, SEL has %d (+1 manager)", len(all), s.bmc.SELCount())
	}
	cleared, err := b.ClearSEL(ctx, s.ep)
	if err != nil || strings.Join(cleared, ",") != "system/Log1" || s.bmc.SELCount() != 0 {
		t.Errorf("clear: %v %v, SEL count %d", cleared, err, s.bmc.SELCount())
	}

	legacy := startSim(t, bmcsim.RedfishOptions{NoSensorsCollection: true})
	ls, err := b.Sensors(ctx, legacy.ep)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, x := range ls {
		names = append(names, x.Name+"="+x.Value+" "+x.Unit)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "CPU Temp=45 degrees C") || !strings.Contains(got, "FAN2=5600 RPM") ||
		!strings.Contains(got, "3.3V=3.3 Volts") {
		t.Errorf("Thermal/Power fallback: %s", got)
	}
}

// TestBootOverride sets and reads the boot override; the IPMI side sees it
// (ipmitool reads the boot flags) and an IPMI change shows in Redfish.
func TestBootOverride(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{BootTargets: []string{"None", "Pxe", "Hdd", "Cd", "BiosSetup"}})
	b, _ := newBroker(t, Options{})
	ctx := t.Context()
	o, err := b.SetBoot(ctx, s.ep, BootSet{Target: "pxe", Enabled: BootPersistent, Mode: BootUEFI})
	if err != nil {
		t.Fatal(err)
	}
	if o.Target != "pxe" || o.Enabled != BootPersistent || o.Mode != BootUEFI || strings.Join(o.Supported, ",") != "none,pxe,disk,cdrom,bios" {
		t.Errorf("after set: %+v", o)
	}
	_, err = b.SetBoot(ctx, s.ep, BootSet{Target: "usb"})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "it supports: none, pxe, disk, cdrom, bios") {
		t.Errorf("usb on a BMC without Usb: %v", err)
	}
	if _, err := b.SetBoot(ctx, s.ep, BootSet{Target: "network"}); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown target: %v", err)
	}

	ipmisim.RequireBinaries(t, "ipmitool")
	ipmitool := func(args ...string) string {
		full := append([]string{"-I", "lanplus", "-C", "3", "-H", s.bmc.Host(), "-p", strconv.Itoa(s.bmc.Port()), "-U", "admin", "-P", "ipmi-pw"}, args...)
		out, err := exec.CommandContext(ctx, "ipmitool", full...).CombinedOutput()
		if err != nil {
			t.Fatalf("ipmitool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := ipmitool("chassis", "bootparam", "get", "5"); !strings.Contains(out, "Force PXE") || !strings.Contains(out, "BIOS EFI boot") ||
		!strings.Contains(out, "Options apply to all future boots") {
		t.Errorf("ipmitool sees:\n%s", out)
	}
	ipmitool("chassis", "bootdev", "cdrom")
	if o, err := b.Boot(ctx, s.ep); err != nil || o.Target != "cdrom" || o.Enabled != BootOnce {
		t.Errorf("after ipmitool bootdev cdrom: %+v %v", o, err)
	}
	if o, err := b.SetBoot(ctx, s.ep, BootSet{Target: "none"}); err != nil || o.Target != "none" || o.Enabled != BootDisabled {
		t.Errorf("clear override: %+v %v", o, err)
	}
}

// TestBootETag: a Boot PATCH carries the resource's ETag; a change
// between the read and the PATCH (412) is re-read and applied once more.
func TestBootETag(t *testing.T) {
	var patches, conflicts int
	var ifMatch []string
	s := startSim(t, bmcsim.RedfishOptions{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				patches++
				ifMatch = append(ifMatch, r.Header.Get("If-Match"))
				if patches == 1 {
					conflicts++
					w.WriteHeader(http.StatusPreconditionFailed)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}})
	b, _ := newBroker(t, Options{})
	o, err := b.SetBoot(t.Context(), s.ep, BootSet{Target: "cdrom", Enabled: BootOnce})
	if err != nil || o.Target != "cdrom" {
		t.Fatalf("set: %+v %v", o, err)
	}
	if patches != 2 || conflicts != 1 || ifMatch[0] == "" || !strings.HasPrefix(ifMatch[1], `W/"`) {
		t.Errorf("patches %d, If-Match %q", patches, ifMatch)
	}
}

// imageServer serves an image with range support; the one-time token in
// its query is what must never leak.
func imageServer(t *testing.T, size int) (*httptest.Server, []byte) {
	t.Helper()
	img := make([]byte, size)
	for i := range img {
		img[i] = byte(i * 31)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "one-time-TOKEN-123" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		http.ServeContent(w, r, "os.iso", time.Unix(0, 0), strings.NewReader(string(img)))
	}))
	t.Cleanup(srv.Close)
	return srv, img
}

// TestVirtualMedia inserts an image (the simulated BMC fetches it with
// range requests), lists and ejects it, with the action and with the PATCH
// fallback; the URL's token never appears in results or errors.
func TestVirtualMedia(t *testing.T) {
	for _, patchOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("patchOnly=%v", patchOnly), func(t *testing.T) {
			srv, img := imageServer(t, 5<<20+3)
			roots := x509.NewCertPool()
			roots.AddCert(srv.Certificate())
			s := startSim(t, bmcsim.RedfishOptions{MediaPatchOnly: patchOnly, ImageRoots: roots})
			b, logs := newBroker(t, Options{})
			ctx := t.Context()
			url := srv.URL + "/images/os.iso?token=one-time-TOKEN-123"
			slot, err := b.InsertMedia(ctx, s.ep, "", url)
			if err != nil {
				t.Fatal(err)
			}
			if slot.ID != "CD1" || !slot.Inserted || slot.Image != srv.URL+"/images/os.iso" || slot.ImageName != "os.iso" {
				t.Errorf("inserted slot %+v", slot)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			f, err := s.rf.WaitMedia(wctx, "CD1")
			if err != nil || f.Err != "" || f.Bytes != int64(len(img)) || f.SHA256 != shaHex(img) || f.Ranges < 5 {
				t.Errorf("fetch %+v %v", f, err)
			}
			_, err = b.InsertMedia(ctx, s.ep, "CD1", url)
			if err == nil || !strings.Contains(err.Error(), "eject it first") {
				t.Errorf("second insert: %v", err)
			}
			list, err := b.Media(ctx, s.ep)
			if err != nil || len(list) != 2 {
				t.Fatalf("media list %+v %v", list, err)
			}
			if _, err := b.InsertMedia(ctx, s.ep, "DVD9", url); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Floppy1, CD1") {
				t.Errorf("unknown slot: %v", err)
			}
			slot, err = b.EjectMedia(ctx, s.ep, "cd1")
			if err != nil || slot.Inserted || slot.Image != "" {
				t.Errorf("ejected %+v %v", slot, err)
			}
			// An image the BMC cannot read is refused, without the token.
			_, err = b.InsertMedia(ctx, s.ep, "CD1", srv.URL+"/images/os.iso?token=wrong-TOKEN-456")
			if err == nil {
				t.Fatal("insert of an unreadable image succeeded")
			}
			texts := []string{logs.String(), err.Error(), fmt.Sprintf("%+v", list), fmt.Sprintf("%+v", slot)}
			noSecrets(t, texts, "one-time-TOKEN-123", "wrong-TOKEN-456", simPass)
			if _, err := b.InsertMedia(ctx, s.ep, "", "file:///etc/passwd"); !errors.Is(err, ErrConfig) {
				t.Errorf("file URL: %v", err)
			}
		})
	}
}

func shaHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestPostureReads reads what the posture scan needs.
func TestPostureReads(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{IPMIDisabled: true, ExtraAccounts: []string{"root:Administrator", "viewer:ReadOnly"}})
	b, _ := newBroker(t, Options{})
	ctx := t.Context()
	np, err := b.NetworkProtocols(ctx, s.ep)
	if err != nil {
		t.Fatal(err)
	}
	if p := np["IPMI"]; p.Enabled == nil || *p.Enabled || p.Port != 623 {
		t.Errorf("IPMI %+v", p)
	}
	if p := np["HTTP"]; p.Enabled == nil || !*p.Enabled {
		t.Errorf("HTTP %+v", p)
	}
	s.rf.SetIPMIEnabled(true)
	if np, _ := b.NetworkProtocols(ctx, s.ep); !*np["IPMI"].Enabled {
		t.Error("IPMI still reported off")
	}
	fw, err := b.FirmwareInventory(ctx, s.ep)
	if err != nil || len(fw) != 3 || fw[0].ID != "BMC" || fw[0].Version == "" {
		t.Errorf("firmware %+v %v", fw, err)
	}
	acc, err := b.Accounts(ctx, s.ep)
	if err != nil || len(acc) != 3 || acc[1].UserName != "root" || acc[1].RoleID != "Administrator" {
		t.Errorf("accounts %+v %v", acc, err)
	}
	// Someone else's session next to the gateway's.
	other := startOtherSession(t, s)
	ss, err := b.Sessions(ctx, s.ep)
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions %+v %v", ss, err)
	}
	own := 0
	for _, x := range ss {
		if x.Own {
			own++
		} else if x.ID != other {
			t.Errorf("foreign session %+v, want id %s", x, other)
		}
	}
	if own != 1 {
		t.Errorf("own sessions %d in %+v", own, ss)
	}
	c, err := b.Certificate(ctx, s.ep)
	if err != nil || !c.Equal(s.rf.Certificate()) {
		t.Errorf("certificate: %v", err)
	}
}

// startOtherSession logs in to the simulator outside the broker and
// returns the new session's id.
func startOtherSession(t *testing.T, s *simBMC) string {
	t.Helper()
	other := NewBroker(Options{})
	t.Cleanup(func() { _ = other.Close() })
	ep := s.ep
	ep.Name = "someone-else"
	if _, err := other.PowerStatus(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	ss, err := other.Sessions(t.Context(), ep)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ss {
		if x.Own {
			return x.ID
		}
	}
	t.Fatal("no own session")
	return ""
}

// TestSessionLifecycle: one login for many calls, logout on Close and on
// Forget, a new session after the endpoint changes, logout when idle.
func TestSessionLifecycle(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b := NewBroker(Options{IdleLogout: time.Hour})
	ctx := t.Context()
	for range 5 {
		if _, err := b.PowerStatus(ctx, s.ep); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := s.rf.Logins(); ok != 1 || s.rf.Sessions() != 1 {
		t.Fatalf("logins %d, sessions %d", ok, s.rf.Sessions())
	}
	b.Forget("node01")
	waitSessions(t, b, s, 0)
	if _, err := b.PowerStatus(ctx, s.ep); err != nil {
		t.Fatal(err)
	}
	ep2 := s.ep
	ep2.SystemID = "437XR1138R2"
	if _, err := b.PowerStatus(ctx, ep2); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, b, s, 1)
	if ok, _ := s.rf.Logins(); ok != 3 {
		t.Errorf("%d logins, want 3 (first, after Forget, after the change)", ok)
	}
	b.sweep(time.Now().Add(2 * time.Hour))
	waitSessions(t, b, s, 0)
	if _, err := b.PowerStatus(ctx, ep2); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.rf.Sessions(); n != 0 {
		t.Errorf("%d sessions after Close", n)
	}
	if _, err := b.PowerStatus(ctx, s.ep); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// waitSessions waits for the broker's background logouts, then checks
// the simulator's session count.
func waitSessions(t *testing.T, b *Broker, s *simBMC, want int) {
	t.Helper()
	b.bg.Wait()
	if n := s.rf.Sessions(); n != want {
		t.Fatalf("%d sessions, want %d", n, want)
	}
}

// TestEndpointRedacts: no formatting of an Endpoint shows the password.
func TestEndpointRedacts(t *testing.T) {
	ep := Endpoint{Name: "n1", URL: "https://10.0.0.5", Username: "gw", Password: "hunter2-secret", TLS: bmctls.Verify{InsecureSkipVerifyDangerous: true}}
	var texts []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		texts = append(texts, fmt.Sprintf(f, ep))
	}
	noSecrets(t, texts, "hunter2-secret")
}
