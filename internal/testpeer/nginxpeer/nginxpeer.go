// Package nginxpeer runs nginx as a test peer: the reference the
// benchmarks put bmcgate's figures beside (the web UI proxy, the image
// listener). It is for tests only.
package nginxpeer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Config is one nginx.
type Config struct {
	// Bin is the nginx binary (exec.LookPath("nginx")).
	Bin string
	// Dir is the test's directory; nginx's prefix is Prefix(Dir, Name).
	// When the test runs as root, nginx runs as nobody and Dir (with
	// everything in it) is handed over to nobody.
	Dir  string
	Name string // default "nginx"
	// HTTP is the body of the http block: the server blocks and any
	// further directives. Its first listen directive is where Start waits
	// for nginx to accept connections.
	HTTP string
	// Files are written into the prefix before nginx starts (certificates
	// and keys the HTTP block names).
	Files map[string][]byte
}

// Prefix is the prefix directory of the nginx called name under dir.
func Prefix(dir, name string) string {
	if name == "" {
		name = "nginx"
	}
	return filepath.Join(dir, name)
}

// Start runs nginx (one worker, in the foreground, no access log) with c's
// http block, waits until it accepts connections, and stops it when the
// test ends (SIGQUIT, then a kill after 5 s).
func Start(t testing.TB, c Config) {
	t.Helper()
	prefix := Prefix(c.Dir, c.Name)
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range c.Files {
		if err := os.WriteFile(filepath.Join(prefix, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp;
  proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp;
  scgi_temp_path %[1]s/tmp;
%[2]s
}
`, prefix, c.HTTP)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.Bin, "-p", prefix, "-c", confPath, "-e", filepath.Join(prefix, "error.log"))
	cmd.Stderr = os.Stderr
	if os.Getuid() == 0 {
		// Unprivileged: nobody, with the files it needs handed over.
		for _, p := range []string{filepath.Dir(c.Dir), c.Dir} {
			_ = os.Chmod(p, 0o755)
		}
		_ = filepath.Walk(c.Dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addr := ListenAddr(c.HTTP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s: %v", addr, err)
		}
		time.Sleep(25 * time.Millisecond) // polling an external process with a deadline
	}
}

// ListenAddr is the address of the first listen directive of an http
// block body.
func ListenAddr(httpBody string) string {
	_, rest, _ := strings.Cut(httpBody, "listen ")
	addr, _, _ := strings.Cut(rest, " ")
	return strings.TrimSuffix(strings.TrimSpace(addr), ";")
}

// Binary returns the path of the nginx binary; the test fails without one
// (Debian package nginx).
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatal("nginx is not installed (apt-get install nginx)")
	}
	return bin
}
