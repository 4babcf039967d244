package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	gossh "golang.org/x/crypto/ssh"
)

// scanConfig writes a config with two simulated BMCs: an insecure one
// (vendor default login, cipher suite 0, null user) and a hardened one.
func scanConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ins, err := bmcsim.Start(context.Background(), "ins", bmcsim.Options{Username: "gw", Password: "gw-Cli-Pass-1", CipherSuites: []int{0, 3}, NullUser: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ins.Close() })
	sec, err := bmcsim.Start(context.Background(), "sec", bmcsim.Options{Username: "gw", Password: "gw-Cli-Pass-2", Privilege: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sec.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\ndata_dir: %q\nroles:\n  - name: ops\n    allow:\n      - actions: [\"scan.*\"]\n        bmcs: [\"*\"]\n", filepath.Join(dir, "data"))
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "users:\n  - name: alice\n    roles: [ops]\n    ssh_keys: [%q]\n", strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))))
	b.WriteString("scan:\n  probe_interval: 1ms\n  timeout: 500ms\nbmcs:\n")
	for i, s := range []*bmcsim.BMC{ins, sec} {
		pw := filepath.Join(dir, s.Name()+".pw")
		if err := os.WriteFile(pw, []byte(fmt.Sprintf("gw-Cli-Pass-%d\n", i+1)), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - name: %s\n    address: %q\n    ipmi:\n      username: gw\n      password_file: %q\n", s.Name(), s.Addr(), pw)
	}
	path := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScanCLI(t *testing.T) {
	cfg := scanConfig(t)
	out, errOut, code := runCLI(t, "scan", "--config", cfg)
	if code != exitCritical || !strings.Contains(out, "cipher-suite-0") || !strings.Contains(out, "fleet: 2 BMCs scanned") {
		t.Fatalf("scan: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "scan", "sec", "--config", cfg, "--json")
	var got struct {
		BMCs []struct {
			BMC      string `json:"bmc"`
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"bmcs"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || len(got.BMCs) != 1 || got.BMCs[0].BMC != "sec" {
		t.Fatalf("scan sec --json: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "scan"); code != exitUsage {
		t.Errorf("no --config: exit %d", code)
	}
	if _, _, code := runCLI(t, "scan", "--config", cfg, "nosuch"); code != exitFailed {
		t.Errorf("unknown target: exit %d", code)
	}
}

func TestScanFixCLI(t *testing.T) {
	cfg := scanConfig(t)
	if _, _, code := runCLI(t, "scan", "--config", cfg, "--fix"); code != exitUsage {
		t.Errorf("--fix without targets: exit %d", code)
	}
	old := stdin
	t.Cleanup(func() { stdin = old })
	stdin = strings.NewReader("n\n")
	_, errOut, code := runCLI(t, "scan", "--config", cfg, "--fix", "ins")
	if code != exitFailed || !strings.Contains(errOut, "apply these") || !strings.Contains(errOut, "ins: cipher-suite-0") {
		t.Fatalf("declined: exit %d\n%s", code, errOut)
	}
	stdin = strings.NewReader("y\n")
	out, errOut, code := runCLI(t, "scan", "--config", cfg, "--fix", "ins")
	if code != exitOK || !strings.Contains(out, "fix cipher-suite-0") || strings.Contains(out, "FAILED") {
		t.Fatalf("confirmed: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "scan", "--config", cfg, "ins")
	if code != exitOK || strings.Contains(out, "cipher-suite-0") {
		t.Errorf("after the fix: exit %d\n%s", code, out)
	}
	out, errOut, code = runCLI(t, "audit", "search", "--data-dir", filepath.Join(filepath.Dir(cfg), "data"), "--code", "scan.fix")
	if code != exitOK || !strings.Contains(out, "scan.fix") {
		t.Errorf("audit search: exit %d\n%s\n%s", code, out, errOut)
	}
}
