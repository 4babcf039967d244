package demo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/testpeer/peerkit"
)

// runningDemo starts a demo and returns its printed lines once it serves.
func runningDemo(t *testing.T, o Options) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	o.Out, o.Logger = pw, slog.New(slog.DiscardHandler)
	go func() {
		done <- Run(ctx, o)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	var lines []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "After Ctrl-C") || strings.HasPrefix(sc.Text(), "The data directory") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(lines) < 5 {
		t.Fatalf("demo printed %q", lines)
	}
	return lines
}

// dirSums hashes every file under dir with its mode and modification
// time, and notes each directory's (an entry made and removed again
// changes it).
func dirSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || strings.HasSuffix(p, datadir.AuditDB) {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h := sha256.New()
		fmt.Fprintf(h, "%v %d\n", fi.Mode(), fi.ModTime().UnixNano())
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		sums[p] = [32]byte(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestDemoRefusesADataDirInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	runningDemo(t, Options{DataDir: dir, SSHAddr: peerkit.FreeTCPAddr(t), BMCs: 1, HomeDir: t.TempDir()})
	before := dirSums(t, dir)
	err := Run(context.Background(), Options{DataDir: dir, SSHAddr: peerkit.FreeTCPAddr(t), BMCs: 1, HomeDir: t.TempDir(),
		Out: io.Discard, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "in use by another bmcgate demo") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("second demo: %v", err)
	}
	after := dirSums(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for p, sum := range before {
		if after[p] != sum {
			t.Errorf("%s was changed by the refused demo", p)
		}
	}
}

func TestDemoFallsBackToAFreePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := runningDemo(t, Options{DataDir: t.TempDir(), SSHAddr: ln.Addr().String(), BMCs: 1, HomeDir: t.TempDir()})
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, ln.Addr().String()+" is taken") || !strings.Contains(text, "using the free port 127.0.0.1:") {
		t.Fatalf("demo output:\n%s", text)
	}
}

// The printed commands name the key the demo authorised with -i, so they
// work when $HOME is not the passwd home OpenSSH looks in.
func TestDemoPrintsTheIdentity(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(home, ".ssh", "id_ed25519")
	peerkit.WriteKey(t, key)
	lines := runningDemo(t, Options{DataDir: t.TempDir(), SSHAddr: peerkit.FreeTCPAddr(t), BMCs: 1, HomeDir: home})
	n := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "ssh -F ") {
			continue
		}
		n++
		if strings.Contains(l, " admin@") && !strings.Contains(l, " -i "+key+" ") {
			t.Errorf("admin line without -i %s: %s", key, l)
		}
		if strings.Contains(l, " viewer@") && !strings.Contains(l, " -i ") {
			t.Errorf("viewer line without -i: %s", l)
		}
	}
	if n < 5 {
		t.Fatalf("%d ssh lines in\n%s", n, strings.Join(lines, "\n"))
	}
}

// --no-web keeps the SSH door alone: no web door in the config, no
// provider, nothing about it printed.
func TestDemoNoWeb(t *testing.T) {
	dir := t.TempDir()
	lines := runningDemo(t, Options{DataDir: dir, SSHAddr: peerkit.FreeTCPAddr(t), NoWeb: true, BMCs: 1, HomeDir: t.TempDir()})
	text := strings.Join(lines, "\n")
	cfg, err := os.ReadFile(filepath.Join(dir, datadir.DemoConfig))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "Web door") || strings.Contains(text, "otpauth://") || strings.Contains(string(cfg), "https:") || strings.Contains(string(cfg), "\nweb:") {
		t.Fatalf("--no-web demo has a web door:\n%s\n%s", text, cfg)
	}
}

// A taken HTTPS port is replaced by a free one, and the printed URL is the
// one served.
func TestDemoWebFallsBackToAFreePort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := runningDemo(t, Options{DataDir: t.TempDir(), SSHAddr: peerkit.FreeTCPAddr(t), HTTPSAddr: ln.Addr().String(), BMCs: 1, HomeDir: t.TempDir()})
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, ln.Addr().String()+" is taken") || !strings.Contains(text, "for the HTTPS door") {
		t.Fatalf("demo output:\n%s", text)
	}
	d := parseDemoWeb(t, lines)
	if d.base == "https://"+ln.Addr().String() {
		t.Fatalf("web door on the taken port: %s", d.base)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(d.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("web door answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
