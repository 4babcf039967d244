package bmcssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/solhost"
)

// sshdPeer is OpenSSH's sshd as a BMC's SSH console service: started by
// the test on a loopback port with its own host key and authorized keys,
// and a ForceCommand that bridges the session (raw PTY) to a fake host
// serial port (internal/testpeer/solhost) with socat. The session's shell gets the
// test's directory as HOME, so no rc file of the real user runs.
type sshdPeer struct {
	t         testing.TB
	bin       string
	dir       string
	extra     string // more sshd_config lines
	logLevel  string
	user      string
	hostKey   ssh.PublicKey
	key       ssh.Signer // the gateway's client key, authorized
	keyPriv   ed25519.PrivateKey
	keyPath   string // the client key in OpenSSH format, for ssh(1)
	host      *solhost.Host
	log       *logSink
	mu        sync.Mutex
	addr      string
	cmd       *exec.Cmd
	exited    chan struct{}
	startedAt int // log offset of the current server's start
}

// logSink is sshd's stderr: bounded, with a change signal.
type logSink struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{}
}

const maxSSHDLog = 8 << 20

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf)+len(p) <= maxSSHDLog {
		l.buf = append(l.buf, p...)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// sshdBinary finds sshd and socat, skipping (or failing, with
// BMCGATE_REQUIRE_PEERS set) when either is missing.
func sshdBinary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("sshd")
	if err != nil {
		bin = "/usr/sbin/sshd" // not on the PATH of non-root users
		if _, serr := os.Stat(bin); serr != nil {
			if os.Getenv(ipmisim.RequirePeersEnv) != "" {
				t.Fatalf("sshd is required (%s is set) but not found: %v", ipmisim.RequirePeersEnv, err)
			}
			t.Skipf("sshd not found (Debian openssh-server); set %s=1 to make this a failure", ipmisim.RequirePeersEnv)
		}
	}
	ipmisim.RequireBinaries(t, "socat")
	if os.Geteuid() == 0 {
		// sshd run by root insists on its privilege separation directory,
		// which systemd's tmpfiles would create on a booted Debian system.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("create /run/sshd for sshd: %v", err)
		}
	}
	return bin
}

// startSSHD starts sshd with extra config lines (LogLevel DEBUG2 unless
// extra sets one). It is killed at the end of the test.
func startSSHD(t testing.TB, extra string) *sshdPeer {
	t.Helper()
	bin := sshdBinary(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host, err := solhost.Start(t.Context(), "BIOS v1.0\r\nbooting host01\r\n")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	p := &sshdPeer{t: t, bin: bin, dir: dir, extra: extra, logLevel: "DEBUG2", user: u.Username, host: host,
		log: &logSink{changed: make(chan struct{})}}
	if strings.Contains(extra, "LogLevel") {
		p.logLevel = ""
	}
	hostSigner, hostPriv := newKey(t)
	p.hostKey = hostSigner.PublicKey()
	writeOpenSSHKey(t, filepath.Join(dir, "host_ed25519"), hostPriv)
	p.key, p.keyPriv = newKey(t)
	p.keyPath = filepath.Join(dir, "client_ed25519")
	writeOpenSSHKey(t, p.keyPath, p.keyPriv)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(p.key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	p.start()
	return p
}

func writeOpenSSHKey(t testing.TB, path string, priv ed25519.PrivateKey) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// start runs a fresh sshd on a free port (retrying when another process
// takes the port first) and waits until it listens.
func (p *sshdPeer) start() {
	t := p.t
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cfg := filepath.Join(p.dir, "sshd_config")
		conf := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
AuthorizedKeysFile %s
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers %s
MaxStartups 300
MaxSessions 100
ForceCommand socat STDIO,raw,echo=0 TCP:%s
SetEnv HOME=%s
%s
`, port, filepath.Join(p.dir, "host_ed25519"), filepath.Join(p.dir, "authorized_keys"), p.user, p.host.Addr(), p.dir, p.extra)
		if p.logLevel != "" {
			conf += "LogLevel " + p.logLevel + "\n"
		}
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		from := len(p.log.String())
		p.startedAt = from
		cmd := exec.Command(p.bin, "-D", "-e", "-f", cfg)
		cmd.Stderr = p.log
		if err := cmd.Start(); err != nil {
			p.mu.Unlock()
			t.Fatalf("start sshd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		p.cmd, p.exited = cmd, exited
		p.mu.Unlock()
		listening := fmt.Sprintf("Server listening on 127.0.0.1 port %d", port)
		if p.waitLog(from, listening, exited) {
			p.mu.Lock()
			p.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			p.mu.Unlock()
			return
		}
		if l := p.log.String()[from:]; !strings.Contains(l, "Bind to port") && !strings.Contains(l, "Cannot bind") {
			t.Fatalf("sshd exited:\n%s", l)
		}
	}
	t.Fatal("sshd found no free port in 5 attempts")
}

// waitLog waits until s appears in the log after from; false when the
// process exited first.
func (p *sshdPeer) waitLog(from int, s string, exited <-chan struct{}) bool {
	p.t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		p.log.mu.Lock()
		ok := bytes.Contains(p.log.buf[min(from, len(p.log.buf)):], []byte(s))
		ch := p.log.changed
		p.log.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-exited:
			return strings.Contains(p.log.String()[from:], s)
		case <-deadline.C:
			p.t.Fatalf("timed out waiting for %q in sshd's log:\n%s", s, p.log.String()[from:])
		}
	}
}

// expectLog waits for s in the current server's log.
func (p *sshdPeer) expectLog(s string) {
	p.t.Helper()
	p.mu.Lock()
	from, exited := p.startedAt, p.exited
	p.mu.Unlock()
	if !p.waitLog(from, s, exited) {
		p.t.Fatalf("sshd exited before logging %q", s)
	}
}

// Addr is where the current server listens.
func (p *sshdPeer) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// dial reaches the current server, whatever address the line asks for.
func (p *sshdPeer) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, p.Addr())
}

// kill ends sshd and every process under it (the per-connection sshd
// processes, the sessions and their socat) with SIGKILL, as a crash or a
// BMC reset would.
func (p *sshdPeer) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	pids := append(descendants(cmd.Process.Pid), cmd.Process.Pid)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-exited
}

// descendants lists the processes below pid (from /proc).
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			parent[n] = pp
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// target is a line target for the server: the OpenBMC profile (the session
// is the console), the gateway's key, the pinned host key.
func (p *sshdPeer) target(t testing.TB) Target {
	prof, _ := Builtin(ProfileOpenBMC)
	return Target{Name: "sshd-bmc", Addr: p.Addr(), HostKey: pin(t, p.hostKey), User: p.user, Key: p.key, Profile: prof}
}

// waitHostReceived waits until the fake host received s.
func waitHostReceived(t testing.TB, h *solhost.Host, s string) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		ch := h.Changed()
		if bytes.Contains(h.Received(), []byte(s)) {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the host never received %q (got %q)", s, h.Received())
		}
	}
}

func splitAddr(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
