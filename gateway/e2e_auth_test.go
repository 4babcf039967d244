package gateway

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	gossh "golang.org/x/crypto/ssh"
)

func loadSigner(t *testing.T, path string) gossh.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authHarness: one embedded BMC; alice (admin) and vic (viewer) with keys.
func authHarness(t *testing.T, extra string) *harness {
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw-node01", CipherSuites: []int{3, 17}})
	return startHarness(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw-node01", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}, {name: "vic", roles: "[viewer]"}, {name: "mallory", roles: "[admin]", noKey: true}}, extra)
}

func TestE2EUnknownKeyRefusedAndAudited(t *testing.T) {
	h := authHarness(t, "")
	// mallory exists in the config but her key is not authorized.
	_, errOut, code := h.ssh("mallory", nil, "whoami")
	if code != 255 || !strings.Contains(errOut, "Permission denied") {
		t.Fatalf("unauthorized key: code %d, %q", code, errOut)
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "mallory"}, nil)
	if !strings.Contains(r.Reason, "not authorized") || r.Outcome != audit.OutcomeFail {
		t.Fatalf("auth.fail record %+v", r)
	}
	// alice's key for another user name does not work either.
	args := append(h.sshArgs("alice"), "vic@127.0.0.1", "whoami")
	if _, _, code := runCmd(t, nil, "ssh", args...); code != 255 {
		t.Fatalf("alice's key logged in as vic (code %d)", code)
	}
	// No password or keyboard-interactive: the server offers publickey only.
	args = append(h.sshArgs("nobody", "-v", "-o", "PreferredAuthentications=password,keyboard-interactive"), "alice@127.0.0.1", "whoami")
	_, errOut, code = runCmd(t, nil, "ssh", args...)
	if code != 255 || !strings.Contains(errOut, "Authentications that can continue: publickey\r\n") ||
		strings.Contains(errOut, "password") && strings.Contains(errOut, "can continue: publickey,") {
		t.Fatalf("non-key auth: code %d\n%s", code, errOut)
	}
}

// TestE2EOfferedKeyIsNotIdentity: the client first offers alice's public
// key (which the server accepts in the query phase) without holding its
// private key, then authenticates with vic's key as user alice. The
// gateway must not take alice's identity from the offered key; since vic's
// key is not alice's, the login fails. And vic offering alice's key then
// signing with his own key as vic is vic.
func TestE2EOfferedKeyIsNotIdentity(t *testing.T) {
	h := authHarness(t, "")
	dir := t.TempDir()
	// A directory holding only alice's public key: ssh offers it but
	// cannot sign with it.
	pubOnly := filepath.Join(dir, "alice_pub_only")
	data, err := os.ReadFile(h.keys["alice"] + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubOnly+".pub", data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"-F", "/dev/null", "-p", h.port, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.knownHosts, "-v"}
	args := append(append([]string{}, base...), "-i", pubOnly+".pub", "-i", h.keys["vic"], "vic@127.0.0.1", "whoami")
	out, errOut, code := runCmd(t, nil, "ssh", args...)
	if code != 0 || !strings.Contains(out, "user:    vic") {
		t.Fatalf("vic offering alice's key first: code %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Offering public key: "+pubOnly) {
		t.Fatalf("ssh did not offer the public-only key first; the test proves nothing:\n%s", errOut)
	}
	args = append(append([]string{}, base...), "-i", pubOnly+".pub", "-i", h.keys["vic"], "alice@127.0.0.1", "whoami")
	out, errOut, code = runCmd(t, nil, "ssh", args...)
	if code == 0 || strings.Contains(out, "alice") {
		t.Fatalf("logged in as alice without alice's private key: code %d\n%s\n%s", code, out, errOut)
	}
}

func TestE2ERefusedRequestsAreAudited(t *testing.T) {
	h := authHarness(t, "")
	tests := []struct {
		name  string
		opts  []string
		cmd   []string
		kind  string
		what  string
		allow bool // the command itself may still succeed
	}{
		{name: "stdio forwarding (direct-tcpip)", opts: []string{"-W", "127.0.0.1:22"}, kind: "channel", what: "direct-tcpip"},
		{name: "remote forwarding", opts: []string{"-R", "0:127.0.0.1:22", "-o", "ExitOnForwardFailure=yes"}, cmd: []string{"whoami"}, kind: "global request", what: "tcpip-forward"},
		{name: "sftp subsystem", opts: []string{"-s"}, cmd: []string{"sftp"}, kind: "session request", what: "subsystem sftp"},
		{name: "env", opts: []string{"-o", "SetEnv=BMCGATE_TEST=1"}, cmd: []string{"whoami"}, kind: "env", what: "BMCGATE_TEST", allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := h.ssh("alice", tt.opts, tt.cmd...)
			if !tt.allow && code == 0 {
				t.Fatalf("%s succeeded: %s", tt.name, errOut)
			}
			h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
				return r.Fields["kind"] == tt.kind && strings.Contains(r.Fields["type"], tt.what)
			})
		})
	}
	t.Run("agent forwarding", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "agent.sock")
		agent := exec.Command("ssh-agent", "-D", "-a", sock)
		if err := agent.Start(); err != nil {
			if os.Getenv(ipmisim.RequirePeersEnv) != "" {
				t.Fatalf("ssh-agent is required (%s is set): %v", ipmisim.RequirePeersEnv, err)
			}
			t.Skipf("ssh-agent: %v", err)
		}
		defer func() { _ = agent.Process.Kill(); _ = agent.Wait() }()
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(sock); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		// IdentityAgent=none would conflict with a forwarded agent socket.
		args := []string{"-F", "/dev/null", "-p", h.port, "-v", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
			"-o", "ForwardAgent=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.knownHosts,
			"-i", h.keys["alice"], "alice@127.0.0.1", "whoami"}
		cmd := exec.Command("ssh", args...)
		cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		var eb strings.Builder
		cmd.Stderr = &eb
		_ = cmd.Run()
		errOut := eb.String()
		if !strings.Contains(errOut, "agent forwarding") {
			t.Fatalf("ssh did not ask for agent forwarding:\n%s", errOut)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
			return strings.Contains(r.Fields["type"], "auth-agent-req")
		})
	})
}

func TestE2EInteractiveShell(t *testing.T) {
	h := authHarness(t, "")
	// -tt forces a terminal on the gateway side even though stdin is a pipe.
	args := append(h.sshArgs("alice", "-tt"), "alice@127.0.0.1")
	out, errOut, code := runCmd(t, []byte("whoami\npower status node01\nbogus\nexit\n"), "ssh", args...)
	if !strings.Contains(out, "bmcgate> ") || !strings.Contains(out, "user:    alice") || !strings.Contains(out, "node01") ||
		!strings.Contains(out, "unknown command") {
		t.Fatalf("interactive shell: code %d\n%q\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "\r\n") {
		t.Fatalf("terminal output without CRLF: %q", out)
	}
	// Without a terminal, commands are read line by line.
	args = append(h.sshArgs("alice", "-T"), "alice@127.0.0.1")
	out, errOut, code = runCmd(t, []byte("# a comment\nwhoami\npower status node01\n"), "ssh", args...)
	if code != 0 || !strings.Contains(out, "user:    alice") || !strings.Contains(out, "node01") || strings.Contains(out, "bmcgate>") {
		t.Fatalf("line shell: code %d\n%q\n%s", code, out, errOut)
	}
}

func TestE2EHandshakeTimeoutAndLimits(t *testing.T) {
	t.Run("silent client is dropped", func(t *testing.T) {
		h := authHarness(t, "limits:\n  handshake_timeout: 1s\n")
		c, err := net.Dial("tcp", "127.0.0.1:"+h.port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		r := bufio.NewReader(c)
		_, _ = r.ReadString('\n') // server version line
		for {
			if _, err := r.ReadByte(); err != nil {
				break
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("connection held for %v", d)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
			return r.Actor == "" && strings.Contains(r.Reason, "handshake")
		})
	})
	t.Run("per-user limit", func(t *testing.T) {
		// The default handshake timeout: a loaded machine can take more
		// than a second to get OpenSSH through key exchange and login.
		h := authHarness(t, "limits:\n  max_connections_per_user: 1\n")
		first := startInteractive(t, h, "alice")
		_, errOut, code := h.ssh("alice", nil, "whoami")
		if code == 0 || !strings.Contains(errOut, "too many connections") {
			t.Fatalf("second connection: code %d %q", code, errOut)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeSSHLimit, Actor: "alice"}, nil)
		first.send("exit\n")
	})
}

func TestE2EClaimedUserNameIsEscaped(t *testing.T) {
	h := authHarness(t, "")
	// OpenSSH refuses such names locally, so a Go client sends it.
	evil := "x\x1b]52;c;ZXZpbA==\x07\x1b[2J"
	signer := loadSigner(t, h.keys["alice"])
	_, err := gossh.Dial("tcp", "127.0.0.1:"+h.port, &gossh.ClientConfig{
		User: evil, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(h.g.HostKey()), Timeout: 5 * time.Second,
	})
	if err == nil {
		t.Fatal("login with a control-character user name succeeded")
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool { return strings.HasPrefix(r.Actor, "x") })
	if strings.ContainsAny(r.Actor, "\x1b\x07") || !strings.Contains(r.Actor, `\x1b`) {
		t.Fatalf("actor stored raw: %q", r.Actor)
	}
	out, _, _ := h.ssh("alice", nil, "audit", "search", "--code", "auth.fail")
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("escape sequence reached the auditor's terminal: %q", out)
	}
}
