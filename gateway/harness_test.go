package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/peerkit"
	gossh "golang.org/x/crypto/ssh"
)

// testBMC is one BMC entry of a test config.
type testBMC struct {
	name, addr, user, pass string
	suite                  int
	labels                 string // YAML flow map, e.g. "{rack: r1}"
}

// testUser is one user of a test config; the harness makes its key pair.
type testUser struct {
	name, roles string // roles as a YAML flow list, e.g. "[admin]"
	noKey       bool
}

// harness is a running gateway with real listeners, driven with OpenSSH.
type harness struct {
	t          testing.TB
	dir        string
	g          *Gateway
	port       string
	keys       map[string]string // user -> private key file
	logs       *logBuffer        // everything the gateway logged, at every level
	knownHosts string
	cancel     context.CancelFunc
	done       chan error
}

const testRoles = `roles:
  - name: admin
    allow:
      - actions: ["*"]
        bmcs: ["*"]
  - name: viewer
    allow:
      - actions: ["bmc.list", "bmc.info", "power.status", "sensors.read", "sel.read"]
        bmcs: ["*"]
  - name: auditor
    allow:
      - actions: ["audit.read"]
  - name: operator
    allow:
      - actions: ["bmc.list", "console.attach", "console.write"]
        bmcs: ["*"]
  - name: watcher
    allow:
      - actions: ["bmc.list", "console.attach"]
        bmcs: ["*"]
`

// writeKey writes a new Ed25519 key pair at path and returns its public key.
func writeKey(t testing.TB, path string) gossh.PublicKey {
	t.Helper()
	return peerkit.WriteKey(t, path)
}

// startHarness writes a config and starts a gateway. extra is appended to
// the config verbatim (limits, ssh settings).
func startHarness(t testing.TB, bmcs []testBMC, users []testUser, extra string) *harness {
	t.Helper()
	return startHarnessWith(t, bmcs, users, extra, nil)
}

// startHarnessWith is startHarness with a last change to the loaded config,
// for settings the file format does not allow (sub-second timeouts).
func startHarnessWith(t testing.TB, bmcs []testBMC, users []testUser, extra string, mutate func(*configs.Config)) *harness {
	t.Helper()
	return startHarnessAt(t, bmcs, users, extra, "", mutate)
}

// startHarnessAt is startHarnessWith with listen.https in the file when
// httpsAddr is not "".
func startHarnessAt(t testing.TB, bmcs []testBMC, users []testUser, extra, httpsAddr string, mutate func(*configs.Config)) *harness {
	t.Helper()
	ipmisim.RequireBinaries(t, "ssh", "ssh-keygen")
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, keys: map[string]string{}}
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nlisten:\n  ssh: %q\n", freeTCPAddr(t))
	if httpsAddr != "" {
		fmt.Fprintf(&b, "  https: %q\n", httpsAddr)
	}
	fmt.Fprintf(&b, "data_dir: %q\n", filepath.Join(dir, "data"))
	b.WriteString(testRoles)
	b.WriteString("users:\n")
	for _, u := range users {
		fmt.Fprintf(&b, "  - name: %s\n    roles: %s\n", u.name, u.roles)
		key := filepath.Join(dir, "key_"+u.name)
		pk := writeKey(t, key)
		h.keys[u.name] = key
		if !u.noKey {
			fmt.Fprintf(&b, "    ssh_keys: [%q]\n", strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pk))))
		}
	}
	b.WriteString("bmcs:\n")
	for _, m := range bmcs {
		pw := filepath.Join(dir, "pw_"+m.name)
		if err := os.WriteFile(pw, []byte(m.pass+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		labels := m.labels
		if labels == "" {
			labels = "{}"
		}
		fmt.Fprintf(&b, "  - name: %s\n    address: %q\n    labels: %s\n    ipmi:\n      username: %q\n      password_file: %q\n      cipher_suite: %d\n",
			m.name, m.addr, labels, m.user, pw, m.suite)
	}
	b.WriteString(extra)
	cfgPath := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := assemble.LoadConfig(cfgPath, false)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, b.String())
	}
	if mutate != nil {
		mutate(cfg)
	}
	h.logs = &logBuffer{}
	logger := slog.New(slog.NewTextHandler(testWriter{t: t, all: h.logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	g, err := Open(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h.g, h.cancel, h.done = g, cancel, make(chan error, 1)
	_, h.port, _ = strings.Cut(g.SSHAddr(), ":")
	h.knownHosts = filepath.Join(dir, "known_hosts")
	line := KnownHostsLine("127.0.0.1", h.port, g.HostKey())
	if err := os.WriteFile(h.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	go func() { h.done <- g.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// stop shuts the gateway down (idempotent).
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("gateway run: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Errorf("gateway did not stop")
	}
	h.cancel = nil
}

// freeTCPAddr returns a loopback address with a port that was free a moment ago.
func freeTCPAddr(t testing.TB) string {
	t.Helper()
	return peerkit.FreeTCPAddr(t)
}

// testWriter sends warnings and errors to the test log; with all set it
// keeps every line there too (tests grep the gateway's logs).
type testWriter struct {
	t   testing.TB
	all *logBuffer
}

func (w testWriter) Write(p []byte) (int, error) {
	if w.all != nil {
		w.all.write(p)
		if bytes.Contains(p, []byte("level=DEBUG")) || bytes.Contains(p, []byte("level=INFO")) {
			return len(p), nil
		}
	}
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// logBuffer holds a gateway's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 16<<20 {
		b.buf.Write(p)
	}
}

// String returns every line logged so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sshArgs are the OpenSSH options every test connection uses: no user
// config, no agent, strict host key checking against the gateway's key.
func (h *harness) sshArgs(user string, extra ...string) []string {
	args := []string{"-F", "/dev/null", "-p", h.port,
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.knownHosts,
		"-o", "ConnectTimeout=10"}
	if key, ok := h.keys[user]; ok {
		args = append(args, "-i", key)
	}
	args = append(args, extra...)
	return args
}

// ssh runs the real OpenSSH client and returns stdout, stderr and the exit
// status.
func (h *harness) ssh(user string, opts []string, command ...string) (string, string, int) {
	h.t.Helper()
	args := append(h.sshArgs(user, opts...), user+"@127.0.0.1")
	args = append(args, command...)
	return runCmd(h.t, nil, "ssh", args...)
}

func runCmd(t testing.TB, stdin []byte, name string, args ...string) (string, string, int) {
	t.Helper()
	return peerkit.Run(t, stdin, name, args...)
}

// records returns the audit records matching q (read through the running
// gateway's store).
func (h *harness) records(t testing.TB, q audit.Query) []audit.Record {
	t.Helper()
	var out []audit.Record
	if q.Limit == 0 {
		q.Limit = 100000
	}
	if err := h.g.store.Search(context.Background(), q, func(r audit.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitRecord polls for an audit record; some are written when a connection
// ends, just after the client has exited.
func (h *harness) waitRecord(t testing.TB, q audit.Query, match func(audit.Record) bool) audit.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range h.records(t, q) {
			if match == nil || match(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no audit record matches %+v", q)
	return audit.Record{}
}

// interactive is an OpenSSH client with a terminal on the gateway side.
type interactive struct {
	send func(string)
	done chan struct{}
}

// startInteractive starts `ssh -tt [opts] user@gw` and returns once the
// prompt shows.
func startInteractive(t testing.TB, h *harness, user string, opts ...string) *interactive {
	t.Helper()
	cmd := exec.Command("ssh", append(h.sshArgs(user, append([]string{"-tt"}, opts...)...), user+"@127.0.0.1")...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	it := &interactive{done: make(chan struct{})}
	prompt := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		seen, shown := "", false
		for {
			n, err := stdout.Read(buf)
			if n > 0 && !shown {
				seen += string(buf[:n])
				if strings.Contains(seen, "bmcgate> ") {
					close(prompt)
					shown = true
				}
			}
			if err != nil {
				_ = cmd.Wait()
				close(it.done)
				return
			}
		}
	}()
	var mu sync.Mutex
	it.send = func(s string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = stdin.Write([]byte(s))
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-it.done })
	select {
	case <-prompt:
	case <-it.done:
		t.Fatal("ssh ended before the prompt")
	case <-time.After(10 * time.Second):
		t.Fatal("no prompt")
	}
	return it
}
