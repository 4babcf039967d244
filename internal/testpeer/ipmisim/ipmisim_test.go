package ipmisim

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ipmitool runs the reference client against s with suite 3.
func ipmitool(t *testing.T, s *Sim, user, pass string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base := []string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-U", user, "-P", pass}
	out, err := exec.CommandContext(ctx, "ipmitool", append(base, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestPowerWithIpmitool(t *testing.T) {
	RequireBinaries(t, "ipmitool")
	s := StartT(t, Options{Users: []User{{ID: 2, Name: "op", Password: "s3cret-pw", Priv: "operator"}}})

	steps := []struct {
		args []string
		want string
		on   bool
	}{
		{[]string{"chassis", "power", "status"}, "Chassis Power is off", false},
		{[]string{"chassis", "power", "on"}, "Up/On", true},
		{[]string{"chassis", "power", "status"}, "Chassis Power is on", true},
		{[]string{"chassis", "power", "off"}, "Down/Off", false},
		{[]string{"chassis", "power", "status"}, "Chassis Power is off", false},
	}
	for _, st := range steps {
		out, err := ipmitool(t, s, "op", "s3cret-pw", st.args...)
		if err != nil || !strings.Contains(out, st.want) {
			t.Fatalf("ipmitool %v = %q, %v; want %q", st.args, out, err, st.want)
		}
		on, err := s.Power()
		if err != nil || on != st.on {
			t.Fatalf("after %v: Power() = %v, %v; want %v", st.args, on, err, st.on)
		}
	}
	if out, err := ipmitool(t, s, "op", "wrong-password", "chassis", "power", "status"); err == nil {
		t.Fatalf("wrong password accepted: %q", out)
	}
}

func TestSensorsAndSEL(t *testing.T) {
	RequireBinaries(t, "ipmitool")
	s := StartT(t, Options{Sensors: true, PowerOn: true})
	out, err := ipmitool(t, s, "admin", "password", "sdr", "list")
	if err != nil {
		t.Fatalf("sdr list: %v: %s", err, out)
	}
	for _, want := range []string{"CPU Temp", "45 degrees C", "FAN1", "5400 RPM", "12V", "12.06 Volts"} {
		if !strings.Contains(out, want) {
			t.Errorf("sdr list lacks %q:\n%s", want, out)
		}
	}
	out, err = ipmitool(t, s, "admin", "password", "sel", "list")
	if err != nil || strings.Count(out, "\n") < 1 {
		t.Fatalf("sel list = %q, %v; want 2 records", out, err)
	}
	if on, _ := s.Power(); !on {
		t.Fatal("PowerOn not honoured")
	}
}

func TestStopIsIdempotentAndFreesPort(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	s, err := Start(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if !s.Exited() || time.Since(start) > 5*time.Second {
		t.Fatalf("stop took %v, exited=%v", time.Since(start), s.Exited())
	}
	// The same port can be used again (restart tests rely on it).
	s2, err := Start(t.Context(), t.TempDir(), Options{Port: s.Port})
	if err != nil {
		t.Fatalf("restart on port %d: %v", s.Port, err)
	}
	_ = s2.Kill()
}

func TestValidateRejectsInjection(t *testing.T) {
	cases := []struct {
		name string
		dir  string
		o    Options
	}{
		{"space in dir", "/tmp/a b", Options{}},
		{"quote in password", "/tmp/x", Options{Users: []User{{ID: 2, Name: "a", Password: `p"w`}}}},
		{"bad id", "/tmp/x", Options{Users: []User{{ID: 0, Name: "a"}}}},
		{"newline in lan line", "/tmp/x", Options{ExtraLAN: []string{"a\nuser 3 true"}}},
	}
	for _, c := range cases {
		if err := validate(c.dir, c.o); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
