package ipmi

import (
	"context"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// ipmiSimUsers are the accounts of the ipmi_sim tests.
var ipmiSimUsers = []ipmisim.User{{ID: 2, Name: testUser, Password: testPassword, Priv: "admin"}}

// ipmitoolStatus asks the reference client for the chassis power state.
func ipmitoolStatus(t *testing.T, sim *ipmisim.Sim) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1",
		"-p", strconv.Itoa(sim.Port), "-U", testUser, "-P", testPassword, "chassis", "power", "status").CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestBrokerIpmiSim(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool")
	sim := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers, Sensors: true})
	ctx := t.Context()
	ep := endpointFor("ipmisim", sim.Addr, 3)
	b, hs := newTestBroker(t, Options{})

	t.Run("power", func(t *testing.T) {
		steps := []struct {
			op      PowerOp
			want    PowerState
			ipmitol string
		}{
			{PowerOn, PowerStateOn, "Chassis Power is on"},
			{PowerOff, PowerStateOff, "Chassis Power is off"},
			{PowerOn, PowerStateOn, "Chassis Power is on"},
		}
		for _, s := range steps {
			if err := b.Power(ctx, ep, s.op); err != nil {
				t.Fatalf("power %s: %v", s.op, err)
			}
			st, err := b.PowerStatus(ctx, ep)
			if err != nil || st != s.want {
				t.Fatalf("after %s: status %v, %v", s.op, st, err)
			}
			if got := ipmitoolStatus(t, sim); got != s.ipmitol {
				t.Fatalf("after %s ipmitool says %q", s.op, got)
			}
			if on, _ := sim.Power(); on != (s.want == PowerStateOn) {
				t.Fatalf("after %s the simulator's power is %v", s.op, on)
			}
		}
		// ipmi_sim's cycle powers off, then on again about a second later.
		if err := b.Power(ctx, ep, PowerCycle); err != nil {
			t.Fatalf("cycle: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := b.PowerStatus(ctx, ep)
			if err == nil && st == PowerStateOn {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not powered on again after cycle: %v, %v", st, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, op := range []PowerOp{PowerReset, PowerSoft} {
			if err := b.Power(ctx, ep, op); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
		}
	})
	t.Run("device info", func(t *testing.T) {
		info, err := b.DeviceInfo(ctx, ep)
		want := DeviceInfo{DeviceID: 0, DeviceRevision: 3, FirmwareVersion: "9.08", IPMIVersion: "2.0",
			ManufacturerID: 0x1291, Manufacturer: info.Manufacturer, ProductID: 0x0f02,
			GUID: "efcdab89-6745-23a1-efcd-ab89674523a1", CipherSuite: 3, Privilege: "operator"}
		if err != nil || info != want {
			t.Fatalf("DeviceInfo = %+v, %v\nwant %+v", info, err, want)
		}
	})
	t.Run("sensors", func(t *testing.T) {
		got, err := b.Sensors(ctx, ep)
		// The thresholds are ipmi_sim's SDRs (config.go) in each
		// sensor's unit; TestSensorsSDRCacheIpmiSim checks them against
		// FreeIPMI's reading of the same records.
		want := []Sensor{
			{Name: "CPU Temp", Type: "Temperature", Value: "45", Unit: "degrees C", Status: "ok", Health: "ok", Reading: f64(45), State: "enabled",
				Thresholds: Thresholds{UNC: f64(80), UCR: f64(90)}},
			{Name: "FAN1", Type: "Fan", Value: "5400", Unit: "RPM", Status: "ok", Health: "ok", Reading: f64(5400), State: "enabled",
				Thresholds: Thresholds{LNC: f64(1000), LCR: f64(500)}},
			{Name: "12V", Type: "Voltage", Value: "12.06", Unit: "Volts", Status: "ok", Health: "ok", Reading: f64(12.06), State: "enabled",
				Thresholds: Thresholds{UNC: f64(12.9), UCR: f64(13.2), LNC: f64(11.1), LCR: f64(10.8)}},
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("Sensors = %+v, %v", got, err)
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("sensor %d = %s, want %s", i, sensorText(got[i]), sensorText(want[i]))
			}
		}
	})
	t.Run("SEL list and clear", func(t *testing.T) {
		sel, err := b.SEL(ctx, ep, 0)
		if err != nil || len(sel) != 2 {
			t.Fatalf("SEL = %+v, %v", sel, err)
		}
		if sel[0].ID != 1 || sel[0].Direction != "asserted" || sel[1].Direction != "deasserted" ||
			sel[0].Severity != "warning" || sel[1].Severity != "ok" ||
			!strings.Contains(sel[0].Event, "Upper Non-critical") || sel[0].Sensor != "Temperature #0x01" {
			t.Fatalf("SEL entries %+v", sel)
		}
		if newest, _ := b.SEL(ctx, ep, 1); len(newest) != 1 || newest[0].ID != 2 {
			t.Fatalf("SEL limit 1 = %+v", newest)
		}
		if err := b.ClearSEL(ctx, ep); err != nil {
			t.Fatal(err)
		}
		if sel, err := b.SEL(ctx, ep, 0); err != nil || len(sel) != 0 {
			t.Fatalf("SEL after clear = %+v, %v", sel, err)
		}
	})
	t.Run("one warm session served everything", func(t *testing.T) {
		if n := hs.Load(); n != 1 {
			t.Fatalf("%d handshakes, want 1", n)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := ep
		bad.Name, bad.Password = "ipmisim-bad", "not-the-password"
		start := time.Now()
		_, err := b.PowerStatus(ctx, bad)
		wantKind(t, err, ErrAuth)
		within(t, "wrong password", time.Since(start), time.Second)
	})
	t.Run("unknown user", func(t *testing.T) {
		bad := ep
		bad.Name, bad.Username = "ipmisim-nouser", "nobody"
		_, err := b.PowerStatus(ctx, bad)
		wantKind(t, err, ErrAuth)
	})
	t.Run("suite 17 is not offered: clean refusal, no fallback", func(t *testing.T) {
		if err := b.Power(ctx, ep, PowerOn); err != nil {
			t.Fatal(err)
		}
		b17, hs17 := newTestBroker(t, Options{})
		e := wantKind(t, b17.Power(ctx, endpointFor("ipmisim-17", sim.Addr, 17), PowerOff), ErrInsecure)
		if !strings.Contains(e.Msg, "does not support cipher suite 17") || hs17.Load() != 1 {
			t.Fatalf("message %q after %d handshakes", e.Msg, hs17.Load())
		}
		if on, _ := sim.Power(); !on {
			t.Fatal("power changed although the session was refused")
		}
	})
}

func TestBrokerUnreachable(t *testing.T) {
	ctx := t.Context()
	// What bounds each failure is told by what the broker answers, not by
	// a tight stopwatch: a refused port is noticed though neither the
	// connect nor the call timeout would end the call for an hour; a
	// silent peer fails by ConnectTimeout ("no answer", not the call
	// timeout's error), well before an exchange's own timeout.
	b, _ := newTestBroker(t, Options{ConnectTimeout: 500 * time.Millisecond, CallTimeout: time.Hour})
	t.Run("closed port", func(t *testing.T) {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		addr := pc.LocalAddr().String()
		pc.Close()
		slow, _ := newTestBroker(t, Options{ConnectTimeout: time.Hour, CallTimeout: time.Hour})
		gctx, cancel := context.WithTimeout(ctx, time.Minute) // a hang guard: its expiry is another error
		defer cancel()
		start := time.Now()
		_, err := slow.PowerStatus(gctx, endpointFor("closed", addr, 3))
		e := wantKind(t, err, ErrUnreachable)
		t.Logf("refused after %v", time.Since(start))
		if !strings.Contains(e.Msg, "refused") {
			t.Fatalf("message %q", e.Msg)
		}
	})
	t.Run("silent peer", func(t *testing.T) {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		defer pc.Close()
		start := time.Now()
		err := b.Power(ctx, endpointFor("silent", pc.LocalAddr().String(), 3), PowerOn)
		e := wantKind(t, err, ErrUnreachable)
		took := time.Since(start)
		t.Logf("no answer after %v", took)
		if e.Msg != msgNoAnswer {
			t.Fatalf("message %q", e.Msg)
		}
		// Ignoring ConnectTimeout, each attempt would last the exchange
		// timeout (maxExchangeTimeout, with an hour-long call timeout):
		// ten times ConnectTimeout, a gap no machine's load closes.
		if took < 500*time.Millisecond || took >= maxExchangeTimeout {
			t.Fatalf("gave up after %v; ConnectTimeout is 500ms, an exchange %v", took, maxExchangeTimeout)
		}
	})
	t.Run("caller gives up", func(t *testing.T) {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		defer pc.Close()
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the caller gives up once its request is on the wire
			defer wg.Done()
			defer cancel()
			_, _, _ = pc.ReadFrom(make([]byte, 512))
		}()
		_, err := b.PowerStatus(cctx, endpointFor("silent2", pc.LocalAddr().String(), 3))
		wg.Wait()
		wantKind(t, err, ErrCanceled)
	})
}

func TestBrokerReconnectsAfterIpmiSimRestart(t *testing.T) {
	sim := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers})
	ctx := t.Context()
	ep := endpointFor("ipmisim", sim.Addr, 3)
	b, hs := newTestBroker(t, Options{CallTimeout: time.Second})
	if err := b.Power(ctx, ep, PowerOn); err != nil {
		t.Fatal(err)
	}
	if err := sim.Kill(); err != nil {
		t.Fatal(err)
	}
	sim2, err := ipmisim.Start(ctx, t.TempDir(), ipmisim.Options{Users: ipmiSimUsers, Port: sim.Port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim2.Kill() })
	st, err := b.PowerStatus(ctx, ep)
	if err != nil || st != PowerStateOff {
		t.Fatalf("status after restart = %v, %v", st, err)
	}
	if hs.Load() != 2 || b.Stats().Retries != 1 {
		t.Fatalf("%d handshakes, stats %+v", hs.Load(), b.Stats())
	}
}
