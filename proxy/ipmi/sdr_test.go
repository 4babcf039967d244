package ipmi

import (
	"context"
	"fmt"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// countingMITM relays a client's datagrams to addr and counts them: one
// per IPMI exchange, whoever the client is.
func countingMITM(t testing.TB, addr string) (*mitm, *atomic.Int64) {
	t.Helper()
	m := newMITM(t, addr)
	var n atomic.Int64
	m.setToBMC(func([]byte) bool { n.Add(1); return true })
	return m, &n
}

func TestSensorsSDRCacheIpmiSim(t *testing.T) {
	ipmisim.RequireBinaries(t, "ipmi-sensors")
	sim := ipmisim.StartT(t, ipmisim.Options{Users: ipmiSimUsers, Sensors: true, Console: true})
	m, sent := countingMITM(t, sim.Addr)
	ep := endpointFor("sdrcache", m.addr(), 3)
	b, _ := newTestBroker(t, Options{KeepAlive: time.Hour, SessionsPerBMC: 1})
	ctx := t.Context()
	if _, err := b.PowerStatus(ctx, ep); err != nil { // open the session
		t.Fatal(err)
	}
	call := func() ([]Sensor, int64) {
		t.Helper()
		before := sent.Load()
		got, err := b.Sensors(ctx, ep)
		if err != nil {
			t.Fatal(err)
		}
		return got, sent.Load() - before
	}
	first, cold := call()
	second, warm := call()
	t.Logf("exchanges: %d reading the SDRs, %d from cache", cold, warm)
	if len(first) != 3 || len(second) != 3 {
		t.Fatalf("sensors %+v then %+v", first, second)
	}
	for i := range first {
		if !reflect.DeepEqual(first[i], second[i]) {
			t.Fatalf("sensor %d: %+v from the repository, %+v from cache", i, first[i], second[i])
		}
	}
	// The readings are FreeIPMI's (ipmi-sensors prints two decimals).
	fm, freeSent := countingMITM(t, sim.Addr)
	fdir := t.TempDir()
	mustFreeIPMISensors(t, fm.addr(), fdir) // makes its cache
	before := freeSent.Load()
	ref := mustFreeIPMISensors(t, fm.addr(), fdir)
	t.Logf("ipmi-sensors with its SDR cache: %d exchanges, session setup included", freeSent.Load()-before)
	for _, x := range first {
		v, _ := strconv.ParseFloat(x.Value, 64)
		if line := fmt.Sprintf(",%s,%s,%.2f,", x.Name, x.Type, v); !strings.Contains(ref, line) {
			t.Errorf("ipmi-sensors has no %q:\n%s", line, ref)
		}
	}
	// So are the thresholds (lower NR, C, NC, upper NC, C, NR; N/A where
	// the record makes none readable).
	thr := mustFreeIPMISensors(t, fm.addr(), fdir, "--output-sensor-thresholds")
	for _, x := range first {
		th := x.Thresholds
		cells := []string{x.Name}
		for _, p := range []*float64{th.LNR, th.LCR, th.LNC, th.UNC, th.UCR, th.UNR} {
			if p == nil {
				cells = append(cells, "N/A")
			} else {
				cells = append(cells, fmt.Sprintf("%.2f", *p))
			}
		}
		if !thresholdLine(thr, cells) {
			t.Errorf("ipmi-sensors thresholds differ for %s (ours %v):\n%s", x.Name, cells[1:], thr)
		}
	}
	// Get SDR Repository Info and three Get Sensor Reading.
	if warm != 4 {
		t.Fatalf("%d exchanges from cache, want 4", warm)
	}
	if walks := b.poolFor("sdrcache").sdr.walks; walks != 1 {
		t.Fatalf("%d repository walks, want 1", walks)
	}
	// A sensor added to the repository changes its stamp: the next call
	// reads the SDRs again, the one after that is served from cache.
	for _, cmd := range []string{
		"sensor_add 0x20 0 9 0x05 0x6f",
		"sensor_set_event_support 0x20 0 9 enable scanning per-state 000000000000000 000000000000000 000000000000000 000000000000000",
		"sensor_set_bit 0x20 0 9 0 1 0",
		"main_sdr_add 0x20 " + hexWords(compactSDR(0, 9, "Intrusion")),
	} {
		if err := sim.Command(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	third, _ := call()
	// FreeIPMI finds its own SDR cache out of date by the same stamp, and
	// once it is made again sees the same new sensor.
	if out, err := freeIPMISensors(t, fm.addr(), fdir); err == nil || !strings.Contains(out, "out of date") {
		t.Fatalf("ipmi-sensors with a stale cache: %v: %s", err, out)
	}
	if out := mustFreeIPMISensors(t, fm.addr(), fdir, "--sdr-cache-recreate"); !strings.Contains(out, ",Intrusion,Physical Security,N/A,N/A,'General Chassis Intrusion'") {
		t.Fatalf("ipmi-sensors after the change:\n%s", out)
	}
	want := Sensor{Name: "Intrusion", Type: "Physical Security", Value: "General Chassis Intrusion", Unit: "unspecified", Status: "ok", State: "enabled"}
	if len(third) != 4 || !reflect.DeepEqual(third[3], want) {
		t.Fatalf("after adding an SDR: %+v, want %+v last", third, want)
	}
	if _, n := call(); n != 5 {
		t.Fatalf("%d exchanges from cache, want 5", n)
	}
	if walks := b.poolFor("sdrcache").sdr.walks; walks != 2 {
		t.Fatalf("%d repository walks, want 2", walks)
	}
}

// thresholdLine reports whether a line of ipmi-sensors' comma-separated
// output names cells[0] and carries the thresholds cells[1:] in its last
// six fields before the event column.
func thresholdLine(out string, cells []string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if len(f) < 10 || f[1] != cells[0] {
			continue
		}
		// ID,Name,Type,Reading,Units,Lower NR,Lower C,Lower NC,Upper NC,Upper C,Upper NR,Event
		if strings.Join(f[5:11], ",") == strings.Join(cells[1:], ",") {
			return true
		}
	}
	return false
}

// f64 is a pointer to v.
func f64(v float64) *float64 { return &v }

// sensorText prints a sensor with its pointers followed.
func sensorText(s Sensor) string {
	p := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	th := s.Thresholds
	return fmt.Sprintf("{%s %s %s %s %s health %s reading %s state %s lnc %s lcr %s lnr %s unc %s ucr %s unr %s}", s.Name, s.Type, s.Value, s.Unit, s.Status,
		s.Health, p(s.Reading), s.State, p(th.LNC), p(th.LCR), p(th.LNR), p(th.UNC), p(th.UCR), p(th.UNR))
}

// compactSDR is a compact sensor record (IPMI 2.0 section 43.2) for a
// physical-security sensor owned by the BMC.
func compactSDR(id uint16, number byte, name string) []byte {
	r := make([]byte, 32+len(name))
	r[0], r[1] = byte(id), byte(id>>8)
	r[2], r[3], r[4] = 0x51, 0x02, byte(len(r)-5)
	r[5], r[7], r[8], r[9] = 0x20, number, 0x07, 0x01
	r[10], r[11], r[12], r[13] = 0x03, 0x40, 0x05, 0x6f
	r[31] = 0xc0 | byte(len(name))
	copy(r[32:], name)
	return r
}

// hexWords prints bytes the way ipmi_sim's emulator commands take them.
func hexWords(b []byte) string {
	w := make([]string, len(b))
	for i, c := range b {
		w[i] = fmt.Sprintf("0x%02x", c)
	}
	return strings.Join(w, " ")
}

// freeIPMISensors runs FreeIPMI's ipmi-sensors against addr with its SDR
// cache in dir.
func freeIPMISensors(t testing.TB, addr, dir string, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := append([]string{"-h", addr, "-u", testUser, "-p", testPassword,
		"-D", "LAN_2_0", "-l", "ADMIN", "-I", "3", "-W", "opensesspriv",
		"--sdr-cache-directory", dir, "--quiet-cache", "--comma-separated-output", "--no-header-output"}, extra...)
	out, err := exec.CommandContext(ctx, "ipmi-sensors", args...).CombinedOutput()
	return string(out), err
}

// mustFreeIPMISensors is freeIPMISensors failing t on an error.
func mustFreeIPMISensors(t testing.TB, addr, dir string, extra ...string) string {
	t.Helper()
	out, err := freeIPMISensors(t, addr, dir, extra...)
	if err != nil {
		t.Fatalf("ipmi-sensors: %v: %s", err, out)
	}
	return out
}
