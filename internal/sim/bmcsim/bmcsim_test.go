package bmcsim

import (
	"context"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// ipmitool runs the reference client against b.
func ipmitool(t *testing.T, b *BMC, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	base := []string{"-H", b.Host(), "-p", strconv.Itoa(b.Port())}
	out, err := exec.CommandContext(ctx, "ipmitool", append(base, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func start(t *testing.T, o Options) *BMC {
	t.Helper()
	b, err := Start(t.Context(), "node01", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestWithIpmitool(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	b := start(t, Options{Username: "op", Password: "op-secret-1", Privilege: "operator", Sensors: true})
	lan := []string{"-I", "lanplus", "-U", "op", "-P", "op-secret-1", "-L", "OPERATOR"}
	for _, suite := range []string{"3", "17"} {
		run := func(args ...string) string {
			t.Helper()
			out, err := ipmitool(t, b, append(append(append([]string{}, lan...), "-C", suite), args...)...)
			if err != nil {
				t.Fatalf("ipmitool -C %s %v: %v: %s", suite, args, err, out)
			}
			return out
		}
		run("chassis", "power", "on")
		if !b.Power() || run("chassis", "power", "status") != "Chassis Power is on" {
			t.Fatalf("suite %s: power on not visible", suite)
		}
		run("chassis", "power", "off")
		if b.Power() || run("chassis", "power", "status") != "Chassis Power is off" {
			t.Fatalf("suite %s: power off not visible", suite)
		}
		b.SetPower(true)
		if run("chassis", "power", "status") != "Chassis Power is on" {
			t.Fatalf("suite %s: SetPower not visible", suite)
		}
		if out := run("sdr", "list"); !strings.Contains(out, "CPU Temp") || !strings.Contains(out, "12.06 Volts") {
			t.Fatalf("sdr list:\n%s", out)
		}
		if out := run("sel", "list"); strings.Count(out, "\n") < 2 {
			t.Fatalf("sel list:\n%s", out)
		}
		if out := run("mc", "info"); !strings.Contains(out, "IPMI Version              : 2.0") {
			t.Fatalf("mc info:\n%s", out)
		}
		b.SetPower(false)
	}
	// Wrong password and IPMI 1.5 (disabled by default) are refused.
	if out, err := ipmitool(t, b, "-I", "lanplus", "-C", "3", "-U", "op", "-P", "wrong", "chassis", "power", "status"); err == nil {
		t.Fatalf("wrong password accepted: %s", out)
	}
	if out, err := ipmitool(t, b, "-I", "lan", "-A", "MD5", "-U", "op", "-P", "op-secret-1", "chassis", "power", "status"); err == nil {
		t.Fatalf("IPMI 1.5 accepted while disabled: %s", out)
	}
}

func TestOptionalFeatures(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	t.Run("IPMI 1.5 when asked", func(t *testing.T) {
		b := start(t, Options{Password: "pw-15", V15AuthTypes: []string{"md5"}})
		out, err := ipmitool(t, b, "-I", "lan", "-A", "MD5", "-U", "admin", "-P", "pw-15", "chassis", "power", "status")
		if err != nil || out != "Chassis Power is off" {
			t.Fatalf("lan/MD5: %v: %s", err, out)
		}
	})
	t.Run("anonymous user", func(t *testing.T) {
		b := start(t, Options{NullUser: true})
		out, err := ipmitool(t, b, "-I", "lanplus", "-C", "3", "-U", "", "-P", "", "chassis", "power", "status")
		if err != nil || out != "Chassis Power is off" {
			t.Fatalf("anonymous: %v: %s", err, out)
		}
	})
	t.Run("suite 0 only", func(t *testing.T) {
		b := start(t, Options{Password: "pw", CipherSuites: []int{0}})
		if out, err := ipmitool(t, b, "-I", "lanplus", "-C", "3", "-U", "admin", "-P", "pw", "chassis", "power", "status"); err == nil {
			t.Fatalf("suite 3 accepted by a suite-0 BMC: %s", out)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	cases := []Options{
		{CipherSuites: []int{4}},
		{CipherSuites: []int{300}},
		{Privilege: "root"},
		{V15AuthTypes: []string{"rot13"}},
		{Username: strings.Repeat("u", 17)},
		{Password: strings.Repeat("p", 21)},
		{Addr: "256.0.0.1:0"},
	}
	for _, o := range cases {
		if b, err := Start(t.Context(), "bad", o); err == nil {
			b.Close()
			t.Errorf("Start(%+v) accepted", o)
		}
	}
}

func TestFleetAndRestart(t *testing.T) {
	before := runtime.NumGoroutine()
	fleet, err := StartFleet(t.Context(), 64, "node", Options{PowerOn: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, b := range fleet {
		if want := "node" + strconv.Itoa(1000 + i + 1)[1:]; b.Name() != want {
			t.Fatalf("name %q, want %q", b.Name(), want)
		}
		if seen[b.Port()] || !b.Power() {
			t.Fatalf("%s: duplicate port or power off", b.Name())
		}
		seen[b.Port()] = true
	}
	addr := fleet[0].Addr()
	CloseAll(fleet)
	CloseAll(fleet) // idempotent
	b, err := Start(t.Context(), "again", Options{Addr: addr})
	if err != nil {
		t.Fatalf("restart on %s: %v", addr, err)
	}
	b.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines after closing the fleet, %d before", n, before)
	}
}

func TestContextEndsBMC(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b, err := Start(ctx, "short-lived", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-b.done:
	case <-time.After(2 * time.Second):
		t.Fatal("BMC still serving after its context ended")
	}
}

func TestSELAndSensors(t *testing.T) {
	b := start(t, Options{Sensors: true})
	n := b.SELCount()
	b.SetPower(true)
	b.SetPower(true) // no transition, no event
	b.SetPower(false)
	if b.SELCount() != n+2 {
		t.Fatalf("SEL count %d after two transitions, want %d", b.SELCount(), n+2)
	}
	id := b.AddSEL(SELEvent{SensorType: 0x01, SensorNumber: 1, EventType: 0x01, Data: [3]byte{0x09, 95, 90}})
	if id == 0 || b.SELCount() != n+3 {
		t.Fatalf("AddSEL id %d, count %d", id, b.SELCount())
	}
	if !b.SetSensor(2, 50) || b.SetSensor(99, 1) {
		t.Fatal("SetSensor")
	}
	noSensors := start(t, Options{})
	if noSensors.SetSensor(1, 1) {
		t.Fatal("SetSensor without sensors")
	}
}
