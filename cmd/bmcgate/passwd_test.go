package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

func TestPasswd(t *testing.T) {
	old := stdin
	t.Cleanup(func() { stdin = old })
	dir := t.TempDir()
	totp := filepath.Join(dir, "totp")
	stdin = strings.NewReader("a long break-glass password\n")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"passwd", "--stdin", "--totp-file", totp}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if _, err := configs.ParseArgon2id(hash); err != nil {
		t.Fatalf("hash %q: %v", hash, err)
	}
	if h, err := breakglass.ParseHash(hash); err != nil || !h.Verify([]byte("a long break-glass password")) {
		t.Fatalf("hash does not verify: %v", err)
	}
	if strings.Contains(out.String()+errb.String(), "a long break-glass password") {
		t.Fatal("the password was echoed")
	}
	st, err := os.Stat(totp)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("totp file: %v %v", st, err)
	}
	data, _ := os.ReadFile(totp)
	if _, err := configs.DecodeTOTPSecret(string(data)); err != nil {
		t.Fatalf("totp secret: %v", err)
	}
	if strings.Contains(out.String()+errb.String(), strings.TrimSpace(string(data))) {
		t.Fatal("the TOTP secret was printed")
	}
	// An existing file is not overwritten; short passwords are refused.
	stdin = strings.NewReader("a long break-glass password\n")
	if code := run(context.Background(), []string{"passwd", "--stdin", "--totp-file", totp}, &out, &errb); code == exitOK {
		t.Fatal("overwrote the TOTP file")
	}
	stdin = strings.NewReader("short\n")
	if code := run(context.Background(), []string{"passwd", "--stdin"}, &out, &errb); code == exitOK {
		t.Fatal("accepted a short password")
	}
}
