package ipmi

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

func TestBootBMCSim(t *testing.T) {
	ctx := t.Context()
	sim := startBMC(t, bmcsim.Options{Privilege: "operator"})
	ep := endpointFor("node", sim.Addr(), 17)
	b, _ := newTestBroker(t, Options{})

	steps := []struct {
		set  BootSet
		want BootOverride
	}{
		{BootSet{Target: "pxe"}, BootOverride{Target: "pxe", Enabled: BootOnce, Mode: BootLegacy}},
		{BootSet{Target: "cdrom", Enabled: BootPersistent, Mode: BootUEFI}, BootOverride{Target: "cdrom", Enabled: BootPersistent, Mode: BootUEFI}},
		// No mode: the BMC's current one (UEFI) is kept.
		{BootSet{Target: "disk"}, BootOverride{Target: "disk", Enabled: BootOnce, Mode: BootUEFI}},
		{BootSet{Target: "usb", Mode: BootLegacy}, BootOverride{Target: "usb", Enabled: BootOnce, Mode: BootLegacy}},
		{BootSet{Target: "bios", Enabled: BootOnce}, BootOverride{Target: "bios", Enabled: BootOnce, Mode: BootLegacy}},
		{BootSet{Target: "none"}, BootOverride{Target: "none", Enabled: BootDisabled, Mode: BootLegacy}},
	}
	for _, s := range steps {
		if err := b.SetBoot(ctx, ep, s.set); err != nil {
			t.Fatalf("SetBoot(%+v): %v", s.set, err)
		}
		got, err := b.Boot(ctx, ep)
		if err != nil || got != s.want {
			t.Fatalf("after %+v: Boot = %+v, %v; want %+v", s.set, got, err, s.want)
		}
		if s.set.Target == "cdrom" && hasIpmitool() {
			// The reference client reads what the broker wrote.
			out := runIpmitool(t, sim.Port(), "chassis", "bootparam", "get", "5")
			for _, want := range []string{"Boot Flag Valid", "Options apply to all future boots", "BIOS EFI boot", "Force Boot from CD/DVD"} {
				if !strings.Contains(out, want) {
					t.Errorf("ipmitool reads no %q:\n%s", want, out)
				}
			}
		}
	}
	if hasIpmitool() {
		// And the broker reads what the reference client wrote.
		runIpmitool(t, sim.Port(), "chassis", "bootdev", "pxe", "options=persistent,efiboot")
		got, err := b.Boot(ctx, ep)
		if want := (BootOverride{Target: "pxe", Enabled: BootPersistent, Mode: BootUEFI}); err != nil || got != want {
			t.Errorf("after ipmitool bootdev pxe: Boot = %+v, %v; want %+v", got, err, want)
		}
	}

	for _, bad := range []BootSet{{Target: "hdd"}, {Target: "pxe", Enabled: "always"}, {Target: "pxe", Mode: "efi"}, {}} {
		e := wantKind(t, b.SetBoot(ctx, ep, bad), ErrBMC)
		if bad.Target == "hdd" && !strings.Contains(e.Msg, "none, pxe, disk, cdrom, bios, usb") {
			t.Errorf("unsupported target message %q does not list the supported ones", e.Msg)
		}
	}
}

func hasIpmitool() bool {
	_, err := exec.LookPath("ipmitool")
	return err == nil
}

// runIpmitool runs ipmitool against a simulated BMC on loopback.
func runIpmitool(t *testing.T, port int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	a := append([]string{"-I", "lanplus", "-C", "17", "-H", "127.0.0.1", "-p", strconv.Itoa(port), "-U", testUser, "-P", testPassword, "-L", "OPERATOR"}, args...)
	out, err := exec.CommandContext(ctx, "ipmitool", a...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool %v: %v: %s", args, err, out)
	}
	return string(out)
}

// ipmitoolBoot runs an ipmitool chassis command against ipmi_sim.
func ipmitoolBoot(t *testing.T, sim *ipmisim.Sim, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	a := append([]string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(sim.Port), "-U", testUser, "-P", testPassword, "chassis"}, args...)
	out, err := exec.CommandContext(ctx, "ipmitool", a...).CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool %v: %v: %s", args, err, out)
	}
	return string(out)
}

// TestBootIpmiSim sets the boot device through the broker and reads it with
// ipmitool, and the other way round, against OpenIPMI's ipmi_sim, which
// keeps only the device selector (no valid bit, persistence or mode).
func TestBootIpmiSim(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	sim := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers})
	ctx := t.Context()
	ep := endpointFor("ipmisim", sim.Addr, 3)
	b, _ := newTestBroker(t, Options{})

	for _, tc := range []struct{ target, simName, ipmitool string }{
		{"pxe", "pxe", "Force PXE"},
		{"cdrom", "cdrom", "Force Boot from CD/DVD"},
		{"disk", "default", "Force Boot from default Hard-Drive"},
	} {
		if err := b.SetBoot(ctx, ep, BootSet{Target: tc.target, Mode: BootLegacy}); err != nil {
			t.Fatalf("SetBoot %s: %v", tc.target, err)
		}
		if dev, err := sim.BootDevice(); err != nil || dev != tc.simName {
			t.Errorf("after %s ipmi_sim holds %q, %v", tc.target, dev, err)
		}
		if out := ipmitoolBoot(t, sim, "bootparam", "get", "5"); !strings.Contains(out, "Boot Device Selector : "+tc.ipmitool) {
			t.Errorf("after %s ipmitool reads:\n%s", tc.target, out)
		}
	}
	for _, tc := range []struct{ ipmitool, want string }{{"pxe", "pxe"}, {"disk", "disk"}, {"bios", "bios"}} {
		ipmitoolBoot(t, sim, "bootdev", tc.ipmitool)
		got, err := b.Boot(ctx, ep)
		if err != nil || got.Target != tc.want || got.Enabled != BootDisabled {
			// ipmi_sim never reports the valid bit: the target is read,
			// the override shows as not enabled.
			t.Errorf("after ipmitool bootdev %s: Boot = %+v, %v", tc.ipmitool, got, err)
		}
	}
}
