package ipmisim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// User is one ipmi_sim user. Priv is "callback", "user", "operator" or
// "admin" (default).
type User struct {
	ID       int
	Name     string
	Password string
	Priv     string
}

// Options configures a simulator. Zero values take the defaults.
type Options struct {
	Users   []User // default: user 2 "admin"/"password", admin
	PowerOn bool   // initial chassis power
	SOLAddr string // optional tcp host:port ipmi_sim connects to as the SOL line
	Sensors bool   // add a temperature, a fan and a voltage sensor with SDRs
	// Linearized adds, with Sensors, sensors whose SDRs name a
	// linearization function (x³, 10^x) and a non-linear one.
	Linearized bool
	ExtraLAN   []string // extra lines inside the startlan/endlan block
	Port       int      // UDP port; 0 picks a free one
	// NoChassisControl leaves out the chassis-control script: ipmi_sim then
	// answers power status itself (always off) and refuses power control.
	// Benchmarks use it to measure the session path without the cost of
	// starting the script on every request.
	NoChassisControl bool
	// Console opens the emulator console on a loopback TCP port, for
	// [Sim.Command] (changing sensors and SDRs while the simulator runs).
	Console bool
}

// Sim is a running ipmi_sim.
type Sim struct {
	Addr string // 127.0.0.1:port
	Port int
	Dir  string

	powerFile   string
	consoleAddr string
	cmd         *exec.Cmd
	done        chan struct{}
	waitErr     error
	stopOnce    sync.Once
	stopErr     error
}

// Available returns nil if ipmi_sim and sdrcomp are on PATH.
func Available() error {
	for _, bin := range []string{"ipmi_sim", "sdrcomp"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("ipmisim: %s not found: %w", bin, err)
		}
	}
	return nil
}

// startTimeout bounds the wait for the first answer.
const startTimeout = 10 * time.Second

// Start writes the simulator's files into dir (which must exist) and runs
// ipmi_sim until Stop or until ctx ends. It returns once the simulator
// answers an RMCP presence ping.
func Start(ctx context.Context, dir string, opts Options) (*Sim, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if err := validate(dir, opts); err != nil {
		return nil, err
	}
	if len(opts.Users) == 0 {
		opts.Users = []User{{ID: 2, Name: "admin", Password: "password", Priv: "admin"}}
	}
	port := opts.Port
	if port == 0 {
		p, err := freeUDPPort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	s := &Sim{
		Addr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port:      port,
		Dir:       dir,
		powerFile: filepath.Join(dir, "power"),
		done:      make(chan struct{}),
	}
	if opts.Console {
		p, err := freeTCPPort()
		if err != nil {
			return nil, err
		}
		s.consoleAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	if err := s.writeFiles(ctx, opts); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "ipmi_sim.log"))
	if err != nil {
		return nil, fmt.Errorf("ipmisim: %w", err)
	}
	s.cmd = exec.Command("ipmi_sim", "-n",
		"-c", filepath.Join(dir, "lan.conf"),
		"-f", filepath.Join(dir, "sim.emu"),
		"-s", filepath.Join(dir, "state"))
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("ipmisim: start ipmi_sim: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Stop()
		case <-s.done:
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := s.waitReady(wctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("ipmisim: %w%s", err, s.logTail())
	}
	return s, nil
}

func validate(dir string, o Options) error {
	if strings.ContainsAny(dir, " \t\n\"'") {
		return fmt.Errorf("ipmisim: directory %q must not contain spaces or quotes", dir)
	}
	for _, u := range o.Users {
		if u.ID < 1 || u.ID > 63 {
			return fmt.Errorf("ipmisim: user id %d out of range 1-63", u.ID)
		}
		if strings.ContainsAny(u.Name+u.Password, "\"\n\\") {
			return errors.New("ipmisim: user names and passwords must not contain quotes, backslashes or newlines")
		}
	}
	for _, l := range o.ExtraLAN {
		if strings.Contains(l, "\n") {
			return errors.New("ipmisim: extra LAN lines must be single lines")
		}
	}
	return nil
}

func (s *Sim) writeFiles(ctx context.Context, o Options) error {
	script := filepath.Join(s.Dir, "chassis.sh")
	power := "0\n"
	if o.PowerOn {
		power = "1\n"
	}
	state := filepath.Join(s.Dir, "state", "ipmi_sim", simName)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return fmt.Errorf("ipmisim: %w", err)
	}
	files := []struct {
		name, text string
		mode       os.FileMode
	}{
		{script, chassisScriptText(s.powerFile), 0o755},
		{s.powerFile, power, 0o644},
		{filepath.Join(s.Dir, "lan.conf"), lanConf(s.Port, script, s.consoleAddr, o), 0o600},
		{filepath.Join(s.Dir, "sim.emu"), emuCommands(o), 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(f.name, []byte(f.text), f.mode); err != nil {
			return fmt.Errorf("ipmisim: %w", err)
		}
	}
	if !o.Sensors {
		return nil
	}
	src := filepath.Join(s.Dir, "sensors.sdrs")
	if err := os.WriteFile(src, []byte(sdrSource(o)), 0o644); err != nil {
		return fmt.Errorf("ipmisim: %w", err)
	}
	out, err := exec.CommandContext(ctx, "sdrcomp", "-8", "-o", filepath.Join(state, "sdr.20.main"), src).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ipmisim: sdrcomp: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Power reports the chassis power state kept by the chassis script.
func (s *Sim) Power() (bool, error) {
	b, err := os.ReadFile(s.powerFile)
	if err != nil {
		return false, fmt.Errorf("ipmisim: %w", err)
	}
	return strings.TrimSpace(string(b)) == "1", nil
}

// BootDevice reports the boot device last set with Set System Boot Options,
// as ipmi_sim names it ("none" when never set; "default" is the hard drive).
func (s *Sim) BootDevice() (string, error) {
	b, err := os.ReadFile(s.powerFile + ".boot")
	if errors.Is(err, os.ErrNotExist) {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("ipmisim: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// stopGrace is how long ipmi_sim gets to exit after SIGTERM (it needs about
// 1.7 s) before it is killed.
const stopGrace = 2500 * time.Millisecond

// Stop sends SIGTERM, waits for the exit and kills the process if it is
// still running after a grace period. Further calls return the same result.
func (s *Sim) Stop() error {
	s.stopOnce.Do(func() {
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.stopErr = fmt.Errorf("ipmisim: %w", err)
		}
		select {
		case <-s.done:
		case <-time.After(stopGrace):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s.stopErr
}

// Kill ends the simulator at once (SIGKILL), for tests that need a BMC to
// vanish abruptly.
func (s *Sim) Kill() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return s.stopErr
}

// Exited reports whether the process has ended.
func (s *Sim) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Sim) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "ipmi_sim.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "; ipmi_sim output: " + string(bytes.TrimSpace(b))
}

// freeUDPPort returns a UDP port that was free a moment ago on 127.0.0.1.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("ipmisim: pick a port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
