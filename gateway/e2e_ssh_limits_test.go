package gateway

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
)

// TestE2ERefusedRequestCap: OpenSSH holds a local forward (-L) open and the
// test connects to it again and again, so the client asks the gateway for
// one direct-tcpip channel after another. Each is refused; past the burst
// allowance the gateway closes the connection with one ssh.limit record,
// and the refusals are aggregated into a first record with the requested
// destination and a summary with the count.
func TestE2ERefusedRequestCap(t *testing.T) {
	h := authHarness(t, "limits:\n  max_refused_requests: 5\n  refusal_audit_interval: 1s\n")
	local := freeTCPAddr(t)
	args := append(h.sshArgs("alice", "-N", "-o", "ExitOnForwardFailure=yes", "-L", local+":10.20.30.40:443"), "alice@127.0.0.1")
	cmd := exec.Command("ssh", args...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	// Connect until ssh has gone: the gateway closed its connection.
	deadline := time.Now().Add(60 * time.Second)
	dials := 0
	for done := false; !done; {
		select {
		case <-exited:
			done = true
			continue
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh still connected after %d forwarded connections:\n%s", dials, errOut.String())
		}
		c, err := net.DialTimeout("tcp", local, 5*time.Second)
		if err != nil {
			// ssh is not listening yet, or is going away.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		dials++
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Read(make([]byte, 1)) // ssh closes it when the channel is refused
		_ = c.Close()
	}
	if dials < 5 {
		t.Fatalf("connection closed after %d refused channels, before the allowance of 5 ran out", dials)
	}
	limit := h.waitRecord(t, audit.Query{Code: audit.CodeSSHLimit, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "refused requests")
	})
	first := h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["type"] == "direct-tcpip" && r.Fields[refusals.FieldRepeats] == ""
	})
	if first.Fields["destination"] != "10.20.30.40:443" || !strings.Contains(first.Reason, "to 10.20.30.40:443") {
		t.Fatalf("refused forwarding record lacks the destination: %+v", first)
	}
	summary := h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["type"] == "direct-tcpip" && r.Fields[refusals.FieldRepeats] != ""
	})
	n, _ := strconv.Atoi(summary.Fields[refusals.FieldRepeats])
	if n < 5 || summary.Fields["destination"] != "10.20.30.40:443" {
		t.Fatalf("summary %+v", summary)
	}
	if got := len(h.records(t, audit.Query{Code: audit.CodeSSHLimit, Actor: "alice"})); got != 1 {
		t.Fatalf("%d ssh.limit records for one closed connection (%+v)", got, limit)
	}
	end := h.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "alice"}, nil)
	if end.Reason != "ended by the gateway: too many refused requests" {
		t.Fatalf("session.end %+v", end)
	}
}

// TestE2ERefusalDetails: a remote forward names the address asked for, and
// the env refusal counts every variable, not only the ones it lists.
func TestE2ERefusalDetails(t *testing.T) {
	h := authHarness(t, "")
	_, errOut, code := h.ssh("alice", []string{"-R", "127.0.0.1:18022:127.0.0.1:22", "-o", "ExitOnForwardFailure=yes"}, "whoami")
	if code == 0 {
		t.Fatalf("remote forward allowed: %s", errOut)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["type"] == "tcpip-forward" && r.Fields["destination"] == "127.0.0.1:18022"
	})
	var vars []string
	for i := 0; i < 20; i++ {
		vars = append(vars, fmt.Sprintf("BMCGATE_V%02d=x", i))
	}
	out, errOut, code := h.ssh("alice", []string{"-o", "SetEnv=" + strings.Join(vars, " ")}, "whoami")
	if code != 0 {
		t.Fatalf("env: code %d\n%s\n%s", code, out, errOut)
	}
	r := h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["kind"] == "env"
	})
	if r.Fields["count"] != "20" || r.Fields["not_listed"] != "4" || !strings.Contains(r.Reason, "(20 variables)") {
		t.Fatalf("env record %+v", r)
	}
}

// TestE2EKeepalivesAreNotActivity: OpenSSH sending ServerAliveInterval=1
// keep-alives does not keep an idle shell open past the idle timeout;
// typing does.
func TestE2EKeepalivesAreNotActivity(t *testing.T) {
	const idle = 2 * time.Second
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw"})
	h := startHarnessWith(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "", func(c *configs.Config) { c.Limits.IdleTimeout.Duration = idle })

	typing := startInteractive(t, h, "alice", "-o", "ServerAliveInterval=1")
	start := time.Now()
	for time.Since(start) < 3*idle {
		typing.send("whoami\n")
		select {
		case <-typing.done:
			t.Fatalf("a typing session was closed after %v", time.Since(start))
		case <-time.After(idle / 4):
		}
	}

	// The idle clock starts when the connection authenticates, before the
	// prompt startInteractive waits for: measure from before the dial.
	start = time.Now()
	quiet := startInteractive(t, h, "alice", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=100")
	select {
	case <-quiet.done:
	case <-time.After(30 * time.Second):
		t.Fatal("keep-alives held an idle session open")
	}
	if d := time.Since(start); d < idle {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeSessionEnd, Actor: "alice"}, func(r audit.Record) bool {
		return r.Reason == "ended by the gateway: idle for "+idle.String()
	})
	for _, r := range h.records(t, audit.Query{Code: audit.CodeSSHRefused}) {
		if strings.Contains(r.Fields["type"], "keepalive") {
			t.Fatalf("keep-alive audited as refused: %+v", r)
		}
	}
	typing.send("exit\n")
}
