// Package peerkit holds the small helpers tests use to drive real peers
// (OpenSSH, ipmitool, shells): a free loopback address, running a peer's
// command with a deadline, and an OpenSSH key pair on disk. Test-only: the
// bmcgate binary never links it.
package peerkit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// FreeTCPAddr returns a loopback address with a port that was free a
// moment ago. The port is drawn below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range starts at 32768 by default), so
// the source port of a connection some other test opens cannot take it
// between this call and the caller's own listen; only another draw can,
// one time in thousands.
func FreeTCPAddr(t testing.TB) string {
	t.Helper()
	for range 64 {
		port := freeLow + mrand.IntN(freeHigh-freeLow)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// freeLow and freeHigh bound the ports FreeTCPAddr draws from.
const freeLow, freeHigh = 20000, 32000

// Run runs name with args (and stdin, when not nil) under a 60-second
// deadline and returns its stdout, stderr and exit status. A command that
// cannot be started fails the test.
func Run(t testing.TB, stdin []byte, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String(), errb.String(), code
}

// WriteKey writes a new ed25519 key pair for OpenSSH: the private key at
// path (mode 0600), the public key at path.pub. It returns the public key.
func WriteKey(t testing.TB, path string) gossh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(pk), 0o644); err != nil {
		t.Fatal(err)
	}
	return pk
}
