package gateway

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/refusals"
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
	s, err := audit.Open(filepath.Join(h.dir, "data", AuditDBName), audit.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var all []audit.Record
	if err := s.Search(context.Background(), audit.Query{Limit: audit.MaxSearchLimit}, func(r audit.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
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

	s, err := audit.Open(filepath.Join(h.dir, "data", AuditDBName), audit.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var all []audit.Record
	if err := s.Search(context.Background(), audit.Query{Limit: audit.MaxSearchLimit}, func(r audit.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
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
