package gateway

import (
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// BenchmarkPowerStatusPaths compares, against one ipmi_sim BMC in one run:
//
//	ssh-gateway:     OpenSSH (ControlMaster connection reuse) → bmcgate → warm IPMI session
//	ipmitool-direct: ipmitool -I lanplus -C 3 … chassis power status (new session per call)
//
// The target is ssh-gateway ≤ 1.0× ipmitool-direct. Both pay ipmi_sim's
// chassis-control script per request.
func BenchmarkPowerStatusPaths(b *testing.B) {
	ipmisim.RequireBinaries(b, "ssh", "ipmitool")
	sim := ipmisim.StartT(b, ipmisim.Options{Users: []ipmisim.User{{ID: 2, Name: "gw", Password: "bench-pass", Priv: "admin"}}})
	h := startHarness(b, []testBMC{{name: "sim01", addr: sim.Addr, user: "gw", pass: "bench-pass", suite: 3}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "")
	ctl := filepath.Join(b.TempDir(), "ctl")
	master := exec.Command("ssh", append(h.sshArgs("alice", "-M", "-N", "-o", "ControlPath="+ctl), "alice@127.0.0.1")...)
	if err := master.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = master.Process.Kill(); _ = master.Wait() })
	viaGateway := append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-o", "ControlMaster=no"), "alice@127.0.0.1", "power", "status", "sim01")
	direct := []string{"-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", fmt.Sprint(sim.Port), "-U", "gw", "-P", "bench-pass", "chassis", "power", "status"}
	run := func(b *testing.B, name string, args []string, want string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			b.Fatalf("%s: %v: %s", name, err, out)
		}
	}
	// Wait for the master connection, then warm the IPMI session.
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ssh", append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-O", "check"), "alice@127.0.0.1")...).Run() != nil {
		if time.Now().After(deadline) {
			b.Fatal("ssh control master did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(b, "ssh", viaGateway, "power")
	var perOp [2]time.Duration
	b.Run("ssh-gateway", func(b *testing.B) {
		for b.Loop() {
			run(b, "ssh", viaGateway, "power off")
		}
		perOp[0] = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("ipmitool-direct", func(b *testing.B) {
		for b.Loop() {
			run(b, "ipmitool", direct, "Power is off")
		}
		perOp[1] = b.Elapsed() / time.Duration(b.N)
	})
	if perOp[0] > 0 && perOp[1] > 0 {
		b.Logf("ssh via bmcgate %.2f ms/op, ipmitool direct %.2f ms/op: ratio %.2f× (target ≤ 1.0×)",
			ms(perOp[0]), ms(perOp[1]), float64(perOp[0])/float64(perOp[1]))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkRedfishPowerStatusPaths compares, against one simulated Redfish
// BMC in one run:
//
//	ssh-gateway:      OpenSSH (ControlMaster) → bmcgate → warm Redfish session
//	redfishtool:      redfishtool … Systems -1 (login, read, logout per call)
//	sushy:            python3-sushy in a new process per read (login, read, logout)
//
// The target is ssh-gateway ≤ 0.5× the faster of the other two.
func BenchmarkRedfishPowerStatusPaths(b *testing.B) {
	ipmisim.RequireBinaries(b, "ssh", "redfishtool")
	py := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import sushy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		b.Skip("python3-sushy not installed")
	}
	sim, err := bmcsim.Start(b.Context(), "rf01", bmcsim.Options{Username: "unused", Password: "unused-Pass-1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	const pass = "bench-Redfish-1"
	rf, err := sim.StartRedfish(b.Context(), bmcsim.RedfishOptions{Username: "gw", Password: pass})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rf.Close() })
	dir := b.TempDir()
	h := startHarness(b, nil, []testUser{{name: "alice", roles: "[admin]"}}, redfishBMCEntryTB(b, dir, "rf01", rf, "gw", pass, "{}"))
	ctl := filepath.Join(b.TempDir(), "ctl")
	master := exec.Command("ssh", append(h.sshArgs("alice", "-M", "-N", "-o", "ControlPath="+ctl), "alice@127.0.0.1")...)
	if err := master.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = master.Process.Kill(); _ = master.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ssh", append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-O", "check"), "alice@127.0.0.1")...).Run() != nil {
		if time.Now().After(deadline) {
			b.Fatal("ssh control master did not start")
		}
		time.Sleep(50 * time.Millisecond) // polling an external process with a deadline
	}
	viaGateway := append(h.sshArgs("alice", "-o", "ControlPath="+ctl, "-o", "ControlMaster=no"), "alice@127.0.0.1", "power", "status", "rf01")
	run := func(b *testing.B, name string, args []string, want string, env ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			b.Fatalf("%s: %v: %s", name, err, out)
		}
	}
	run(b, "ssh", viaGateway, "power") // warm the Redfish session
	ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "pw")
	_ = os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rf.Certificate().Raw}), 0o600)
	_ = os.WriteFile(pw, []byte(pass), 0o600)
	script, _ := filepath.Abs("../proxy/redfish/testdata/sushy_bench.py")
	var perOp [3]time.Duration
	b.Run("ssh-gateway", func(b *testing.B) {
		for b.Loop() {
			run(b, "ssh", viaGateway, "power off")
		}
		perOp[0] = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("redfishtool", func(b *testing.B) {
		args := []string{"-r", rf.Addr(), "-u", "gw", "-p", pass, "-S", "Always", "-A", "Session", "Systems", "-1"}
		for b.Loop() {
			run(b, "redfishtool", args, `"PowerState"`)
		}
		perOp[1] = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("sushy", func(b *testing.B) {
		for b.Loop() {
			run(b, py, []string{script, rf.URL(), "gw", pw, ca, "1"}, ".", "PYTHONDONTWRITEBYTECODE=1", "REQUESTS_CA_BUNDLE="+ca)
		}
		perOp[2] = b.Elapsed() / time.Duration(b.N)
	})
	if perOp[0] > 0 && perOp[1] > 0 && perOp[2] > 0 {
		faster := min(perOp[1], perOp[2])
		b.Logf("ssh via bmcgate (Redfish) %.2f ms/op, redfishtool %.2f ms/op, sushy %.2f ms/op: %.2f× the faster (target ≤ 0.5×)",
			ms(perOp[0]), ms(perOp[1]), ms(perOp[2]), float64(perOp[0])/float64(faster))
	}
}
