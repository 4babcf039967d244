package gateway

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
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
