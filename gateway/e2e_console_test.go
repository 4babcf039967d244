package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// TestE2EConsoleEchoAndRecording: OpenSSH in a terminal attaches to the
// simulated BMC's console, types, sees the echo, detaches with "~.", and the
// session's recording replays the BMC's bytes exactly.
func TestE2EConsoleEchoAndRecording(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("read-write")
	c.waitFor("node01 login: ")
	c.send("root\r")
	c.waitFor("login: root\r\n")
	c.send("~.")
	c.waitFor("detached from node01")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d; terminal:\n%q", code, c.output())
	}
	att := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleAttach, Actor: "bob"}, nil)
	det := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "bob"}, nil)
	if att.Session == "" || det.Session != att.Session || det.Fields[audit.FieldConsole] != att.Fields[audit.FieldConsole] {
		t.Fatalf("attach %+v and detach %+v do not match", att, det)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleInput, Actor: "bob"}, nil)
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleOutput, Target: "node01"}, nil)
	search := func(ctx context.Context, q audit.Query, fn func(audit.Record) error) error {
		return h.g.store.Search(ctx, q, fn)
	}
	for _, id := range []string{att.Session, att.Fields[audit.FieldConsole]} {
		rec, err := audit.LoadRecording(context.Background(), search, id)
		if err != nil {
			t.Fatalf("load recording %s: %v", id, err)
		}
		if got, want := string(rec.Output()), "\r\nnode01 login: root\r\n"; got != want {
			t.Fatalf("recording %s output %q, want %q", id, got, want)
		}
		var in strings.Builder
		for _, e := range rec.Events {
			if e.Input {
				in.Write(e.Data)
			}
		}
		if in.String() != "root\r" {
			t.Fatalf("recorded input %q, want %q (escapes must not be recorded as input)", in.String(), "root\r")
		}
	}
}

// TestE2EConsoleRefusals: no terminal, no permission, unknown BMC.
func TestE2EConsoleRefusals(t *testing.T) {
	h, _ := consoleHarness(t, "")
	if _, errOut, code := h.ssh("bob", nil, "console", "node01"); code != 2 || !strings.Contains(errOut, "ssh -t") {
		t.Fatalf("without a terminal: %d %q", code, errOut)
	}
	c := startPTY(t, h, "vic", "console", "node01")
	if code := c.wait(); code != 1 || !strings.Contains(c.output(), "node01") {
		t.Fatalf("viewer without console.attach: %d %q", code, c.output())
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeDecision, Actor: "vic", Action: "console.attach", Outcome: audit.OutcomeDeny}, nil)
	c = startPTY(t, h, "bob", "console", "nosuch")
	if code := c.wait(); code != 1 || !strings.Contains(c.output(), "unknown BMC") {
		t.Fatalf("unknown BMC: %d %q", code, c.output())
	}
	c = startPTY(t, h, "bob", "console", "node01", "--takeover")
	if code := c.wait(); code != 1 || !strings.Contains(c.output(), "takeover refused") {
		t.Fatalf("takeover without console.force: %d %q", code, c.output())
	}
}

// TestE2EConsoleRecordingFailureEndsSession: when console traffic can no
// longer be recorded, the viewer's session ends with a message.
func TestE2EConsoleRecordingFailureEndsSession(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("login: ")
	if err := h.g.store.Close(); err != nil {
		t.Fatal(err)
	}
	c.send("root\r")
	c.waitFor("console recording failed")
	if code := c.wait(); code == 0 {
		t.Fatalf("session survived a recording failure; exit 0:\n%q", c.output())
	}
}

// TestE2EConsoleFromInteractiveShell: "console" works from the bmcgate>
// prompt, and detaching returns to the prompt.
func TestE2EConsoleFromInteractiveShell(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob")
	c.waitFor("bmcgate> ")
	c.send("console node01\r")
	c.waitFor("node01 login: ")
	c.send("root\r")
	c.waitFor("root\r\n")
	m := c.mark()
	c.send("~.")
	c.waitAfter(m, "detached from node01")
	c.waitAfter(m, "bmcgate> ")
	c.send("exit\r")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
