package gateway

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// BenchmarkSensorsPaths compares, against one ipmi_sim BMC in one run:
//
//	ssh-gateway:  OpenSSH (ControlMaster connection reuse) → bmcgate sensors
//	              → warm IPMI session and the BMC's cached SDRs
//	ipmi-sensors: FreeIPMI's ipmi-sensors with its SDR cache (new session
//	              per call)
//
// The target is ssh-gateway ≤ 0.5× ipmi-sensors.
func BenchmarkSensorsPaths(b *testing.B) {
	ipmisim.RequireBinaries(b, "ssh", "ipmi-sensors")
	sim := ipmisim.StartT(b, ipmisim.Options{Users: []ipmisim.User{{ID: 2, Name: "gw", Password: "bench-pass", Priv: "admin"}},
		Sensors: true, NoChassisControl: true})
	h := startHarness(b, []testBMC{{name: "sim01", addr: sim.Addr, user: "gw", pass: "bench-pass", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "")
	ctl := filepath.Join(b.TempDir(), "ctl")
	master := exec.Command("ssh", append(h.sshArgs("alice", "-M", "-N", "-o", "ControlPath="+ctl), "alice@127.0.0.1")...)
	if err := master.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = master.Process.Kill(); _ = master.Wait() })
	viaGateway := append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-o", "ControlMaster=no"), "alice@127.0.0.1", "sensors", "sim01")
	cache := b.TempDir()
	direct := []string{"-h", sim.Addr, "-u", "gw", "-p", "bench-pass", "-D", "LAN_2_0", "-l", "ADMIN", "-I", "3",
		"-W", "opensesspriv", "--sdr-cache-directory", cache, "--quiet-cache"}
	run := func(b *testing.B, name string, args []string, want string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			b.Fatalf("%s: %v: %s", name, err, out)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ssh", append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-O", "check"), "alice@127.0.0.1")...).Run() != nil {
		if time.Now().After(deadline) {
			b.Fatal("ssh control master did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(b, "ssh", viaGateway, "CPU Temp") // warm session and SDR cache
	run(b, "ipmi-sensors", direct, "12V") // FreeIPMI's SDR cache
	var perOp [3]time.Duration
	whoami := append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-o", "ControlMaster=no"), "alice@127.0.0.1", "whoami")
	b.Run("ssh-whoami", func(b *testing.B) {
		for b.Loop() {
			run(b, "ssh", whoami, "alice")
		}
		perOp[2] = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("ssh-gateway", func(b *testing.B) {
		for b.Loop() {
			run(b, "ssh", viaGateway, "12V")
		}
		perOp[0] = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("ipmi-sensors", func(b *testing.B) {
		for b.Loop() {
			run(b, "ipmi-sensors", direct, "12V")
		}
		perOp[1] = b.Elapsed() / time.Duration(b.N)
	})
	if perOp[0] > 0 && perOp[1] > 0 {
		b.Logf("%s", fmt.Sprintf("ssh sensors via bmcgate %.2f ms/op, ipmi-sensors (SDR cache) %.2f ms/op: ratio %.2f×; ssh whoami (no BMC call) %.2f ms/op",
			ms(perOp[0]), ms(perOp[1]), float64(perOp[0])/float64(perOp[1]), ms(perOp[2])))
	}
}
