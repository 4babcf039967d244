package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPinCommand(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bmcgate.yaml")
	text := `version: 1
data_dir: data
users:
  - name: alice
    ssh_keys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQvzu4De76WU/hmNm+vy+MVyGF1K6VmtUIVK/QRWtL2 alice@example.com"
bmcs:
  - name: node01
    address: 127.0.0.1
    ipmi:
      username: bmcgate
      password_env: NODE01_PW
    web:
      url: ` + srv.URL + `
      tls:
        insecure_skip_verify_dangerous: true
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	old := stdin
	defer func() { stdin = old }()

	stdin = strings.NewReader("yes\n")
	out, errOut, code := runCLI(t, "pin", "node01", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "pin_sha256: \"") || !strings.Contains(out, "SHA-256:") {
		t.Errorf("pin: %d\n%s%s", code, out, errOut)
	}
	stdin = strings.NewReader("\n")
	out, errOut, code = runCLI(t, "pin", "node01", "--config", cfg)
	if code != exitFailed || strings.Contains(out, "pin_sha256:") || !strings.Contains(errOut, "not confirmed") {
		t.Errorf("pin refused: %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "pin", "--config", cfg); code != exitUsage {
		t.Errorf("pin without BMC: %d", code)
	}
}
