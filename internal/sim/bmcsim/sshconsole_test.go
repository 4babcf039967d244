package bmcsim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// sshClient is OpenSSH's ssh client in a session with the simulated SSH
// console service: input through a pipe, output collected.
type sshClient struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	out     []byte
	changed chan struct{}
	done    chan struct{}
}

func (c *sshClient) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	close(c.changed)
	c.changed = make(chan struct{})
	return len(p), nil
}

// expect waits for the n-th occurrence of s in the output.
func (c *sshClient) expect(s string, n int) {
	c.t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, ch := bytes.Count(c.out, []byte(s)) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-c.done:
			c.t.Fatalf("ssh ended before %q; output %q", s, c.output())
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %q; output %q", s, c.output())
		}
	}
}

func (c *sshClient) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.out)
}

func (c *sshClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatal(err)
	}
}

// sshTo starts ssh to the service with a client key it authorizes.
func sshTo(t *testing.T, s *SSHConsole, keyPath string, extra ...string) *sshClient {
	t.Helper()
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	host, port, _ := net.SplitHostPort(s.Addr())
	if err := os.WriteFile(known, []byte("["+host+"]:"+port+" "+string(gossh.MarshalAuthorizedKey(s.HostKey()))), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-tt", "-e", "none", "-F", "/dev/null", "-i", keyPath, "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + known, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", port}, extra...)
	args = append(args, "admin@"+host)
	c := &sshClient{t: t, changed: make(chan struct{}), done: make(chan struct{})}
	c.cmd = exec.CommandContext(t.Context(), "ssh", args...)
	c.cmd.Stdout, c.cmd.Stderr = c, c
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// clientKey writes a fresh client key for ssh and returns its public half.
func clientKey(t *testing.T) (string, gossh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, sp
}

// TestSSHConsoleWithOpenSSH drives the simulated iLO command line with
// OpenSSH's ssh client: prompt, vsp, the host console (echo, and the same
// host as the SOL side), ESC ( back to the prompt, exit.
func TestSSHConsoleWithOpenSSH(t *testing.T) {
	ipmisim.RequireBinaries(t, "ssh")
	b, err := Start(t.Context(), "ilo-sim", Options{Password: "p", SOL: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	keyPath, pub := clientKey(t)
	s, err := b.StartSSH(t.Context(), SSHOptions{Flavor: "ilo", AuthorizedKeys: []gossh.PublicKey{pub}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	c := sshTo(t, s, keyPath)
	c.expect("</>hpiLO-> ", 1)
	c.send("show\r")
	c.expect("COMMAND NOT RECOGNIZED", 1)
	c.send("vsp\r")
	c.expect("Press 'ESC (' to return to the CLI Session.", 1)
	c.expect("ilo-sim login: ", 1)
	c.send("hello\r")
	c.expect("hello\r\n", 1)
	if got := b.ConsoleReceived(); !bytes.Contains(got, []byte("hello\r")) {
		t.Fatalf("the host received %q", got)
	}
	c.send("\x1b(")
	c.expect("</>hpiLO-> ", 3)
	if s.Detaches() != 1 {
		t.Fatalf("detaches %d", s.Detaches())
	}
	c.send("exit\r")
	<-c.done
	if strings.Contains(c.output(), "Permanently added") {
		t.Error("ssh did not know the host key")
	}

	// SHA-1 is not offered.
	weak := sshTo(t, s, keyPath, "-o", "KexAlgorithms=diffie-hellman-group14-sha1")
	<-weak.done
	if !strings.Contains(weak.output(), "no matching key exchange method") {
		t.Fatalf("a SHA-1 key exchange was not refused: %q", weak.output())
	}
}

// goClient is an x/crypto SSH session with the service: output collected,
// each change signalled.
type goClient struct {
	sess    *gossh.Session
	in      io.Writer
	mu      sync.Mutex
	out     []byte
	changed chan struct{}
	done    chan struct{} // closed at the end of output
}

func (c *goClient) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	close(c.changed)
	c.changed = make(chan struct{})
	return len(p), nil
}

// after waits for s in the output after byte from and returns the offset
// just past it.
func (c *goClient) after(t *testing.T, from int, s string) int {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		i, ch, out := bytes.Index(c.out[from:], []byte(s)), c.changed, string(c.out)
		c.mu.Unlock()
		if i >= 0 {
			return from + i + len(s)
		}
		select {
		case <-ch:
		case <-c.done:
			t.Fatalf("the session ended before %q; output %q", s, out)
		case <-deadline.C:
			t.Fatalf("timed out waiting for %q; output %q", s, out)
		}
	}
}

// goShell logs in to the service with a terminal and starts the shell.
func goShell(t *testing.T, s *SSHConsole, password string) *goClient {
	t.Helper()
	cc, err := gossh.Dial("tcp", s.Addr(), &gossh.ClientConfig{User: "admin",
		Auth: []gossh.AuthMethod{gossh.Password(password)}, HostKeyCallback: gossh.FixedHostKey(s.HostKey())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	sess, err := cc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	c := &goClient{sess: sess, changed: make(chan struct{}), done: make(chan struct{})}
	if err := sess.RequestPty("vt100", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if c.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		_, _ = io.Copy(c, stdout)
	}()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSSHConsoleEndRightAfterAttach: EndConsoles as soon as a client can
// count the console as attached (the shell's reply for openbmc, the attach
// command's echo for the vendor flavors) ends that console, however late
// the simulator's session gets to it.
func TestSSHConsoleEndRightAfterAttach(t *testing.T) {
	for name, fl := range sshFlavors {
		t.Run(name, func(t *testing.T) {
			b, err := Start(t.Context(), "sim-"+name, Options{Password: "p", SOL: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			s, err := b.StartSSH(t.Context(), SSHOptions{Flavor: name, Password: "ssh-p"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			c := goShell(t, s, "ssh-p")
			if fl.prompt == "" {
				s.EndConsoles() // right after the shell's reply
				select {
				case <-c.done:
				case <-time.After(60 * time.Second):
					c.mu.Lock()
					defer c.mu.Unlock()
					t.Fatalf("the console did not end; output %q", c.out)
				}
				return
			}
			pos := c.after(t, 0, fl.prompt)
			if fl.cd != "" {
				_, _ = io.WriteString(c.in, fl.cd+"\r")
				pos = c.after(t, pos, fl.prompt)
			}
			_, _ = io.WriteString(c.in, fl.attach+"\r")
			pos = c.after(t, pos, fl.attach+"\r\n")
			s.EndConsoles() // right after the echo
			c.after(t, pos, "\r\n"+fl.prompt)
		})
	}
}
