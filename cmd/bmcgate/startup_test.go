package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	bolt "go.etcd.io/bbolt"
	gossh "golang.org/x/crypto/ssh"
)

// serveFixture is a minimal config whose gateway can start: one user, one
// BMC (never contacted), a data dir and a free loopback port.
type serveFixture struct {
	dir, cfg, data, addr string
}

func newServeFixture(t *testing.T, extra string) serveFixture {
	t.Helper()
	dir := t.TempDir()
	f := serveFixture{dir: dir, cfg: filepath.Join(dir, "bmcgate.yaml"), data: filepath.Join(dir, "data")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	ln.Close()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "node01.pw")
	if err := os.WriteFile(pw, []byte("not-a-real-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`version: 1
listen:
  ssh: %q
data_dir: %q
roles:
  - name: admin
    allow:
      - actions: ["*"]
        bmcs: ["*"]
users:
  - name: alice
    roles: [admin]
    ssh_keys: [%q]
bmcs:
  - name: node01
    address: 127.0.0.1:9
    ipmi:
      username: gw
      password_file: %q
%s`, f.addr, f.data, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))), pw, extra)
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// serveOnce starts the gateway and stops it as soon as it serves: it
// returns the exit code and stderr.
func serveOnce(t *testing.T, f serveFixture) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := newWatchBuffer("bmcgate is serving")
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", f.cfg, "--log-level", "info"}, &bytes.Buffer{}, stderr)
	}()
	select {
	case code := <-done:
		return code, stderr.String()
	case <-stderr.seen:
		cancel()
	case <-time.After(60 * time.Second):
		t.Fatalf("serve neither started nor refused:\n%s", stderr.String())
	}
	return <-done, stderr.String()
}

// watchBuffer is a goroutine-safe buffer that closes seen once its text
// contains want.
type watchBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchBuffer(want string) *watchBuffer {
	return &watchBuffer{want: want, seen: make(chan struct{})}
}

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// startOnce runs the gateway once so that the data dir holds a log.
func startOnce(t *testing.T, f serveFixture) {
	t.Helper()
	if code, errOut := serveOnce(t, f); code != 0 {
		t.Fatalf("first start: %d\n%s", code, errOut)
	}
}

func TestServeStartupRefusals(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		setup func(t *testing.T, f serveFixture) (cleanup func())
		want  []string // in the one refusal line
	}{
		{name: "bad config", extra: "limits:\n  max_connections: -1\n",
			want: []string{"bmcgate.yaml:", "limits.max_connections"}},
		{name: "audit log locked by another gateway", setup: func(t *testing.T, f serveFixture) func() {
			startOnce(t, f)
			s, err := audit.Open(filepath.Join(f.data, "audit.db"), audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return func() { s.Close() }
		}, want: []string{"audit.db", "in use by another process"}},
		{name: "truncated audit log", setup: func(t *testing.T, f serveFixture) func() {
			startOnce(t, f)
			if err := os.Truncate(filepath.Join(f.data, "audit.db"), 8192); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"audit.db", "truncated"}},
		{name: "empty audit log", setup: func(t *testing.T, f serveFixture) func() {
			startOnce(t, f)
			if err := os.Truncate(filepath.Join(f.data, "audit.db"), 0); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"audit.db", "empty"}},
		{name: "edited audit record", setup: func(t *testing.T, f serveFixture) func() {
			startOnce(t, f)
			startOnce(t, f)
			editAuditRecord(t, filepath.Join(f.data, "audit.db"), 2)
			return nil
		}, want: []string{"audit.db", "record #2", "edited", "on_tamper"}},
		{name: "world-readable host key", setup: func(t *testing.T, f serveFixture) func() {
			startOnce(t, f)
			if err := os.Chmod(filepath.Join(f.data, "ssh_host_ed25519_key"), 0o644); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"ssh_host_ed25519_key", "too open"}},
		{name: "port in use", setup: func(t *testing.T, f serveFixture) func() {
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				t.Fatal(err)
			}
			return func() { ln.Close() }
		}, want: []string{"listen.ssh", "address already in use"}},
		{name: "data dir is a file", setup: func(t *testing.T, f serveFixture) func() {
			if err := os.WriteFile(f.data, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"data directory", "not a directory"}},
		{name: "data dir owned by another user", setup: func(t *testing.T, f serveFixture) func() {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give the directory away")
			}
			if err := os.Mkdir(f.data, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(f.data, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"data directory", "owned by uid 65534"}},
		{name: "data dir under a file", setup: func(t *testing.T, f serveFixture) func() {
			if err := os.WriteFile(filepath.Join(f.dir, "file"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return nil
		}, want: []string{"data directory", "file/data", "not a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServeFixture(t, tt.extra)
			if tt.name == "data dir under a file" {
				f = newServeFixtureAt(t, filepath.Join("file", "data"))
			}
			if tt.setup != nil {
				if cleanup := tt.setup(t, f); cleanup != nil {
					defer cleanup()
				}
			}
			code, errOut := serveOnce(t, f)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\n%s", code, exitFailed, errOut)
			}
			var refusal string
			for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if strings.HasPrefix(line, "bmcgate: refusing to start: ") {
					if refusal != "" {
						t.Fatalf("two refusal lines:\n%s", errOut)
					}
					refusal = line
				}
			}
			if refusal == "" || strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine ") {
				t.Fatalf("no single refusal line:\n%s", errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(refusal, w) {
					t.Errorf("refusal %q lacks %q", refusal, w)
				}
			}
		})
	}
}

// newServeFixtureAt is newServeFixture with data_dir at rel (relative to the
// config's directory).
func newServeFixtureAt(t *testing.T, rel string) serveFixture {
	t.Helper()
	f := newServeFixture(t, "")
	b, err := os.ReadFile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), fmt.Sprintf("data_dir: %q", f.data), fmt.Sprintf("data_dir: %q", rel), 1)
	if err := os.WriteFile(f.cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f.data = filepath.Join(f.dir, rel)
	return f
}

// editAuditRecord changes one byte of record seq's stored JSON in place, as
// an attacker editing the file would.
func editAuditRecord(t *testing.T, path string, seq uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		k := make([]byte, 8)
		k[7] = byte(seq)
		v := bytes.Replace(b.Get(k), []byte(`"outcome":"ok"`), []byte(`"outcome":"no"`), 1)
		return b.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestServeDataDirModeIsTightened(t *testing.T) {
	f := newServeFixture(t, "")
	if err := os.Mkdir(f.data, 0o755); err != nil {
		t.Fatal(err)
	}
	code, errOut := serveOnce(t, f)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	fi, err := os.Stat(f.data)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 || !strings.Contains(errOut, "tightened") {
		t.Fatalf("data dir mode %#o after start; log:\n%s", fi.Mode().Perm(), errOut)
	}
}

func TestServeWarnsOnTamperWhenConfigured(t *testing.T) {
	f := newServeFixture(t, "audit:\n  on_tamper: warn\n")
	startOnce(t, f)
	startOnce(t, f)
	editAuditRecord(t, filepath.Join(f.data, "audit.db"), 2)
	code, errOut := serveOnce(t, f)
	if code != 0 || !strings.Contains(errOut, "fails verification at record #2") || !strings.Contains(errOut, "starting anyway") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}
