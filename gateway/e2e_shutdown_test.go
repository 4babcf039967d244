package gateway

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/refusals"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// TestE2EShutdownHeadIsTheLastRecord: open SSH sessions end at shutdown and
// their records are written before gateway.stop; the head the gateway
// announces is the file's last record, and nothing can follow it.
func TestE2EShutdownHeadIsTheLastRecord(t *testing.T) {
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}, {name: "bob", roles: "[viewer]"}}, "")
	a := startInteractive(t, h, "alice")
	b := startInteractive(t, h, "bob")
	h.stop()
	<-a.done
	<-b.done
	seq, hash := h.g.store.Head() // what the stop line logged
	if _, err := h.g.store.Append(context.Background(), audit.Record{Code: audit.CodeSessionEnd}); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("append after Run returned: %v, want ErrClosed", err)
	}
	s := openStopped(t, h)
	all := allRecords(t, s)
	last := all[len(all)-1]
	if last.Code != audit.CodeGatewayStop || last.Seq != seq || last.Hash != hash {
		t.Fatalf("last record #%d %s %s; announced head #%d %s", last.Seq, last.Code, last.Hash, seq, hash)
	}
	ends := 0
	for _, r := range all {
		if r.Code == audit.CodeSessionEnd && r.Door == audit.DoorSSH {
			ends++
		}
	}
	if ends != 2 {
		t.Fatalf("%d SSH session ends before gateway.stop, want 2", ends)
	}
	if rep, err := s.Verify(context.Background()); err != nil || !rep.OK || rep.HeadSeq != seq {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestE2EDiskFloorRefusesNewSessions: below audit.min_free, an SSH login
// is refused with the reason (OpenSSH shows it), and the refusal recorded.
func TestE2EDiskFloorRefusesNewSessions(t *testing.T) {
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, "audit:\n  min_free: 99.999%\n")
	_, errOut, code := h.ssh("alice", nil, "whoami")
	if code == 0 || !strings.Contains(errOut, "audit log's disk is nearly full") {
		t.Fatalf("login below the floor: code %d %q", code, errOut)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeSSHLimit, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "free-space floor")
	})
}

// TestE2EMessagesEscapedOnce: user text in an error is escaped once.
func TestE2EMessagesEscapedOnce(t *testing.T) {
	h := startHarness(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, "")
	for _, cmd := range [][]string{
		{"audit", "search", "--since", "x\u200by"},
		{"power", "frob\u200b", "node01"},
		{"frob\u200b"},
	} {
		_, errOut, _ := h.ssh("alice", nil, cmd...)
		if !strings.Contains(errOut, `\u200b`) || strings.Contains(errOut, `\\u200b`) || strings.Contains(errOut, "\u200b") {
			t.Errorf("%q: stderr %q: want \\u200b escaped exactly once", cmd, errOut)
		}
	}
}

// TestE2EShutdownDrainsConsolesAndRefusals: at shutdown an attached
// console's detaches and the SSH door's pending refusal summary are written
// before gateway.stop, and gateway.stop stays the last record.
func TestE2EShutdownDrainsConsolesAndRefusals(t *testing.T) {
	h, _, host := ipmisimConsoleHarness(t, "")
	bob := startPTY(t, h, "bob", "console", "host01")
	waitLive(t, host, bob)
	carol := startPTY(t, h, "carol", "console", "host01")
	carol.waitFor("read-only")
	// Two failed logins of one kind: the first is written at once, the
	// second waits in the aggregator for its summary (the interval is 1m).
	for range 2 {
		args := append(h.sshArgs("alice"), "nobody@127.0.0.1", "whoami")
		if _, _, code := runCmd(t, nil, "ssh", args...); code == 0 {
			t.Fatal("an unknown user logged in")
		}
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "nobody"}, nil)
	h.stop()
	bob.wait()
	carol.wait()

	all := allRecords(t, openStopped(t, h))
	if last := all[len(all)-1]; last.Code != audit.CodeGatewayStop {
		t.Fatalf("last record #%d is %s, want %s", last.Seq, last.Code, audit.CodeGatewayStop)
	}
	detached := map[string]bool{}
	summary := false
	for _, r := range all {
		switch {
		case r.Code == audit.CodeConsoleDetach:
			detached[r.Actor] = true
		case r.Code == audit.CodeAuthFail && r.Actor == "nobody" && r.Fields[refusals.FieldRepeats] == "1":
			summary = true
		}
	}
	if !detached["bob"] || !detached["carol"] {
		t.Errorf("console detaches before gateway.stop: %v, want bob and carol", detached)
	}
	if !summary {
		t.Error("the pending refusal summary was not written before gateway.stop")
	}
}

// TestE2EDiskFloorRefusesConsoleAttach: an open SSH shell goes on while the
// audit log's disk drops below audit.min_free, but a console attach from it
// is refused with the reason (and recorded as a failed command).
func TestE2EDiskFloorRefusesConsoleAttach(t *testing.T) {
	data := tmpfsDir(t, "16m")
	h, _, _ := ipmisimFaultHarness(t, "audit:\n  min_free: 8MiB\n", func(c *configs.Config) { c.DataDir = data })
	bob := startPTY(t, h, "bob")
	bob.waitFor("bmcgate> ")
	var st syscall.Statfs_t
	if err := syscall.Statfs(data, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if err := os.WriteFile(filepath.Join(data, "ballast"), make([]byte, free-4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	// The free space is looked at every 2 s at most: until the gateway
	// notices, an attach still succeeds and is detached again.
	deadline := time.Now().Add(30 * time.Second)
	for refused := false; !refused; {
		if time.Now().After(deadline) {
			t.Fatalf("console attaches never refused below the floor:\n%q", bob.output())
		}
		m := bob.mark()
		bob.send("console host01\r")
		for {
			out := bob.output()[m:]
			if strings.Contains(out, "audit log's disk is nearly full") {
				refused = true
				break
			}
			if strings.Contains(out, "read-write") {
				bob.send("\r~.")
				bob.waitAfter(m+strings.Index(out, "read-write"), "bmcgate> ")
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer to console host01:\n%q", out)
			}
			time.Sleep(5 * time.Millisecond) // polling the terminal, as waitAfter does
		}
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeCmdRun, Actor: "bob"}, func(r audit.Record) bool {
		return r.Fields["command"] == "console host01" && r.Outcome == audit.OutcomeError
	})
	bob.send("whoami\r")
	bob.waitFor("bob")
}

// TestE2EDiskFloorRefusesWebLogin: below audit.min_free a single sign-on
// login gets no session; the browser is told why and the refusal recorded.
func TestE2EDiskFloorRefusesWebLogin(t *testing.T) {
	w := startWeb(t, webOptions{extraWeb: "audit:\n  min_free: 99.999%\n"})
	c := w.client(t)
	resp, body := w.login(t, c, "alice", "alice-password-1", "/")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "disk is nearly full") {
		t.Fatalf("login below the floor: %d %.400s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, w.base+"/"); resp.Request.URL.Path == "/" && resp.StatusCode == http.StatusOK {
		t.Fatal("a session was started below the floor")
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return r.Door == audit.DoorWeb && r.Outcome == audit.OutcomeDeny && strings.Contains(r.Reason, "nearly full")
	})
}

// openStopped opens the audit log of a stopped harness read-only.
func openStopped(t *testing.T, h *harness) *audit.Store {
	t.Helper()
	s, err := audit.Open(filepath.Join(h.dir, "data", datadir.AuditDB), audit.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// allRecords returns every record of s, oldest first.
func allRecords(t *testing.T, s *audit.Store) []audit.Record {
	t.Helper()
	var all []audit.Record
	q := audit.Query{Limit: audit.MaxSearchLimit}
	for {
		page, err := s.SearchPage(context.Background(), q, func(r audit.Record) error {
			all = append(all, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			return all
		}
		q = page.Next(q)
	}
}
