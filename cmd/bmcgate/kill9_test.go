package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// serveChildEnv holds the arguments of a child process of
// TestE2EKill9KeepsAcknowledged: bmcgate itself, run from the test binary.
const serveChildEnv = "BMCGATE_TEST_SERVE_CHILD"

// TestE2EKill9KeepsAcknowledged runs "bmcgate serve" as a child process,
// keeps OpenSSH clients running commands through it, asks it (over SSH)
// for the records it acknowledged, kills it with SIGKILL while the clients
// go on, and checks that the offline commands (verify, search) find every
// one of those records, and that the gateway starts again on the log (its
// write-ahead log replayed).
func TestE2EKill9KeepsAcknowledged(t *testing.T) {
	if args := os.Getenv(serveChildEnv); args != "" {
		os.Exit(run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	ipmisim.RequireBinaries(t, "ssh", "ssh-keygen")
	f := newServeFixture(t, "")
	key := filepath.Join(f.dir, "alice_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = regexp.MustCompile(`ssh_keys: \[.*\]`).ReplaceAll(cfg, []byte(`ssh_keys: ["`+strings.TrimSpace(string(pub))+`"]`))
	if err := os.WriteFile(f.cfg, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(f.addr, ":")
	ssh := func(command ...string) *exec.Cmd {
		args := []string{"-F", "/dev/null", "-p", port, "-i", key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
			"-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "LogLevel=ERROR", "alice@127.0.0.1"}
		return exec.Command("ssh", append(args, command...)...)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestE2EKill9KeepsAcknowledged$")
	child.Env = append(os.Environ(), serveChildEnv+"="+strings.Join([]string{"serve", "--config", f.cfg, "--log-level", "info"}, "\x1f"))
	stderr, err := child.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "bmcgate is serving") {
				once.Do(func() { close(serving) })
			}
		}
		once.Do(func() { close(serving) })
	}()
	<-serving

	// Clients that keep the gateway appending until it is killed.
	stop := make(chan struct{})
	var clients sync.WaitGroup
	for range 4 {
		clients.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = ssh("whoami").Run()
			}
		})
	}
	defer func() { close(stop); clients.Wait() }()
	for range 3 {
		if out, err := ssh("whoami").CombinedOutput(); err != nil {
			t.Fatalf("ssh whoami: %v %s", err, out)
		}
	}
	out, err := ssh("audit", "search", "--user", "alice", "--json", "--limit", "100000").Output()
	if err != nil {
		t.Fatalf("ssh audit search: %v", err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	acked := map[uint64]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("search output %q: %v", line, err)
		}
		acked[r.Seq] = r.Hash
	}
	if len(acked) < 3 {
		t.Fatalf("only %d acknowledged records listed", len(acked))
	}

	vout, verr, code := runCLI(t, "audit", "verify", "--data-dir", f.data)
	if code != exitOK || !strings.Contains(vout, "audit log OK") {
		t.Fatalf("offline verify after kill -9: exit %d\n%s%s", code, vout, verr)
	}
	t.Logf("offline verify after kill -9: %s", strings.TrimSpace(vout))
	sout, serr, code := runCLI(t, "audit", "search", "--data-dir", f.data, "--user", "alice", "--json", "--limit", "100000")
	if code != exitOK {
		t.Fatalf("offline search after kill -9: exit %d %s", code, serr)
	}
	found := map[uint64]string{}
	for _, line := range strings.Split(strings.TrimSpace(sout), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err == nil {
			found[r.Seq] = r.Hash
		}
	}
	for seq, hash := range acked {
		if found[seq] != hash {
			t.Fatalf("acknowledged record #%d (hash %s) missing after kill -9: offline search has %q", seq, hash, found[seq])
		}
	}
	if code, errOut := serveOnce(t, f); code != 0 {
		t.Fatalf("restart after kill -9: exit %d\n%s", code, errOut)
	}
	if vout, verr, code = runCLI(t, "audit", "verify", "--data-dir", f.data); code != exitOK {
		t.Fatalf("verify after the restart: exit %d\n%s%s", code, vout, verr)
	}
	t.Logf("%d acknowledged records listed before the kill, all found; after the restart: %s", len(acked), strings.TrimSpace(vout))
}
