package demo

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	"github.com/bmcgate/bmcgate/internal/testpeer/peerkit"
)

// TestE2EDemo runs the demo as a newcomer would and pastes the ssh
// commands it prints (those without a terminal) into a shell with the real
// OpenSSH client.
func TestE2EDemo(t *testing.T) {
	ipmisim.RequireBinaries(t, "ssh", "ssh-keygen", "sh")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{DataDir: t.TempDir(), SSHAddr: peerkit.FreeTCPAddr(t), HomeDir: t.TempDir(),
			Out: pw, Logger: slog.New(slog.DiscardHandler)})
		pw.Close()
	}()

	var cmds []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "ssh -F ") && !strings.Contains(line, " -t ") {
			cmds = append(cmds, line)
		}
		if strings.HasPrefix(line, "After Ctrl-C") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(cmds) < 5 {
		t.Fatalf("demo printed %d ssh commands: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		t.Run(strings.SplitN(c, "@bmcgate-demo ", 2)[1], func(t *testing.T) {
			out, errOut, code := peerkit.Run(t, nil, "sh", "-c", c+" </dev/null")
			denied := strings.Contains(c, "# denied")
			switch {
			case denied && (code == 0 || !strings.Contains(errOut, "denied")):
				t.Fatalf("exit %d, want a denial\nstdout: %s\nstderr: %s", code, out, errOut)
			case !denied && code != 0 && !strings.Contains(c, " scan "):
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			case !denied && strings.Contains(c, " scan ") && code != 0 && code != 4:
				// The scan exits 4 when a finding is critical.
				t.Fatalf("scan: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}
