package sol

import (
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/solhost"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// startIPMISim runs ipmi_sim with its SOL line wired to a fake host.
func startIPMISim(t *testing.T) (*ipmisim.Sim, *solhost.Host, ipmi.Endpoint) {
	t.Helper()
	ipmisim.Require(t)
	host, err := solhost.Start(t.Context(), "BIOS v1.0\r\nbooting host01\r\nhost01 login: ")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	sim := ipmisim.StartT(t, ipmisim.Options{SOLAddr: host.Addr()})
	ep := endpoint(sim.Addr)
	ep.Name, ep.Username, ep.Password = "host01", "admin", "password"
	deadline := time.Now().Add(15 * time.Second)
	for host.Connections() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("ipmi_sim never connected to the fake host")
		}
		select {
		case <-host.Changed():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return sim, host, ep
}

func TestLineEchoIPMISim(t *testing.T) {
	_, host, ep := startIPMISim(t)
	c := newCapture()
	l := openLine(t, ep, c, Options{})
	c.waitFor(t, 10*time.Second, "active", func() bool { return l.State() == StateActive })
	if err := host.Print("\r\nhost01 login: "); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "prompt", func() bool { return strings.Contains(c.String(), "host01 login: ") })
	if _, err := l.Write([]byte("root\r")); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "echo", func() bool { return strings.Contains(c.String(), "login: root\r\n") })
	long := strings.Repeat("0123456789abcdef", 40)
	if _, err := l.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 10*time.Second, "long echo", func() bool { return strings.Contains(c.String(), long) })
	if got := string(host.Received()); got != "root\r"+long {
		t.Fatalf("host received %q", got)
	}
}
