package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestHelpOnEverySubcommand(t *testing.T) {
	for _, sc := range subcommands() {
		out, errOut, code := runCLI(t, sc.name, "--help")
		if code != 0 || !strings.Contains(out, "usage: bmcgate "+sc.name) {
			t.Errorf("%s --help: code %d\n%s%s", sc.name, code, out, errOut)
		}
	}
	out, _, code := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "demo") {
		t.Errorf("help: %d %s", code, out)
	}
	if _, _, code := runCLI(t, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command exit %d", code)
	}
	if _, _, code := runCLI(t); code != exitUsage {
		t.Errorf("no command exit %d", code)
	}
}

func TestConfigCheck(t *testing.T) {
	example := filepath.Join("..", "..", "configs", "example.yaml")
	out, errOut, code := runCLI(t, "config", "check", "--config", example, "--skip-secrets")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("example: code %d\n%s%s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 2\nlisten:\n  sshh: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "config", "check", "--config", bad)
	if code != exitFailed {
		t.Fatalf("bad config exit %d", code)
	}
	for _, want := range []string{"bad.yaml:1: version", "bad.yaml:3: listen.sshh", "data_dir"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in\n%s", want, errOut)
		}
	}
	if _, _, code := runCLI(t, "config", "check"); code != exitUsage {
		t.Errorf("missing --config exit %d", code)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	_, errOut, code := runCLI(t, "serve", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitFailed || !strings.Contains(errOut, "refusing to start") {
		t.Fatalf("serve with a missing config: %d %s", code, errOut)
	}
}

func TestAuditVerifyOfflineErrors(t *testing.T) {
	_, errOut, code := runCLI(t, "audit", "verify", "--data-dir", t.TempDir())
	if code != exitFailed || errOut == "" {
		t.Fatalf("verify of an empty dir: %d %q", code, errOut)
	}
	if _, _, code := runCLI(t, "audit", "verify"); code != exitUsage {
		t.Fatalf("missing --data-dir exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "bmcgate ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestAuditReplaySpeed: --speed must be a number from 0 to 1000; NaN,
// infinities and out-of-range values are refused before the data
// directory is opened.
func TestAuditReplaySpeed(t *testing.T) {
	dir := t.TempDir() // no audit log: a speed that passes fails later
	const refused = "--speed must be a number from 0 (no pauses) to 1000"
	for _, c := range []struct {
		speed string
		code  int
		msg   string
	}{
		{"NaN", exitUsage, refused},
		{"nan", exitUsage, refused},
		{"+Inf", exitUsage, refused},
		{"-Inf", exitUsage, refused},
		{"infinity", exitUsage, refused},
		{"-1", exitUsage, refused},
		{"-0.001", exitUsage, refused},
		{"1000.5", exitUsage, refused},
		{"1e9", exitUsage, refused},
		{"0", exitFailed, ""},
		{"0.5", exitFailed, ""},
		{"1000", exitFailed, ""},
	} {
		t.Run(c.speed, func(t *testing.T) {
			_, errOut, code := runCLI(t, "audit", "replay", "--data-dir", dir, "--speed", c.speed, "s1")
			if code != c.code {
				t.Fatalf("exit %d, want %d: %q", code, c.code, errOut)
			}
			if c.msg != "" && !strings.Contains(errOut, c.msg) {
				t.Fatalf("message %q, want %q", errOut, c.msg)
			}
			if c.msg == "" && strings.Contains(errOut, "--speed") {
				t.Fatalf("a valid speed was refused: %q", errOut)
			}
		})
	}
}
