package ipmi

import (
	"context"
	"math"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// TestSensorsLinearizedIpmiSim reads sensors whose SDRs name a
// linearization function (the x³ and 10^x of IPMI 2.0 §36.3) and a
// non-linear one from ipmi_sim, and compares readings and thresholds with
// what ipmitool and FreeIPMI make of the same records. ipmi_sim does not
// answer Get Sensor Reading Factors, so the non-linear sensor has no
// reading there, for all three.
func TestSensorsLinearizedIpmiSim(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmitool", "ipmi-sensors")
	sim := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers, Sensors: true, Linearized: true})
	b, _ := newTestBroker(t, Options{})
	got, err := b.Sensors(t.Context(), endpointFor("linear", sim.Addr, 3))
	if err != nil || len(got) != 6 {
		t.Fatalf("Sensors = %+v, %v", got, err)
	}
	want := []Sensor{
		{Name: "Pump", Type: "Fan", Value: "125000", Unit: "RPM", Status: "ok", Health: "ok", Reading: f64(125000), State: "enabled",
			Thresholds: Thresholds{LNC: f64(27000), LCR: f64(8000), UNC: f64(343000)}},
		{Name: "Flow", Type: "Voltage", Value: "31.623", Unit: "Volts", Status: "ok", Health: "ok", Reading: f64(31.623), State: "enabled",
			Thresholds: Thresholds{UNC: f64(100), UCR: f64(316.228)}},
		{Name: "NL Temp", Type: "Temperature", Value: "na", Unit: "degrees C", Status: "na", State: "unavailable"},
	}
	for i, w := range want {
		if !reflect.DeepEqual(got[3+i], w) {
			t.Errorf("sensor %d = %s, want %s", 3+i, sensorText(got[3+i]), sensorText(w))
		}
	}
	// FreeIPMI: readings and thresholds, two decimals.
	free := mustFreeIPMISensors(t, sim.Addr, t.TempDir(), "--output-sensor-thresholds")
	for _, line := range []string{
		"4,Pump,Fan,125000.00,RPM,N/A,8000.00,27000.00,343000.00,N/A,N/A,'OK'",
		"5,Flow,Voltage,31.62,V,N/A,N/A,N/A,100.00,316.23,N/A,'OK'",
		"6,NL Temp,Temperature,N/A,C,N/A,N/A,N/A,N/A,N/A,N/A,",
	} {
		if !strings.Contains(free, line) {
			t.Errorf("ipmi-sensors has no %q:\n%s", line, free)
		}
	}
	// ipmitool: the reading and each threshold, three decimals.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(sim.Port),
		"-U", testUser, "-P", testPassword, "sensor", "get", "Pump", "Flow").CombinedOutput()
	if err != nil {
		t.Fatalf("ipmitool: %v: %s", err, out)
	}
	ref := ipmitoolSensorGet(string(out))
	for _, s := range got[3:5] {
		r := ref[s.Name]
		th := s.Thresholds
		for field, v := range map[string]*float64{"Sensor Reading": s.Reading, "Lower Non-Critical": th.LNC, "Lower Critical": th.LCR,
			"Lower Non-Recoverable": th.LNR, "Upper Non-Critical": th.UNC, "Upper Critical": th.UCR, "Upper Non-Recoverable": th.UNR} {
			theirs, ok := r[field]
			if (v == nil) != !ok || (v != nil && math.Abs(*v-theirs) > 0.001) {
				t.Errorf("%s %s: ours %v, ipmitool %v (%v)", s.Name, field, ptrText(v), theirs, ok)
			}
		}
	}
}

// ipmitoolSensorGet reads `ipmitool sensor get` output: per sensor, the
// numeric fields ("na" left out).
func ipmitoolSensorGet(out string) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	var cur map[string]float64
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "Sensor ID" {
			name, _, _ := strings.Cut(v, " (")
			cur = map[string]float64{}
			res[name] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			if x, err := strconv.ParseFloat(f[0], 64); err == nil {
				cur[k] = x
			}
		}
	}
	return res
}

func ptrText(v *float64) string {
	if v == nil {
		return "nil"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
