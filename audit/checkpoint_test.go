package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestVerifyIncrementalStartsAtTheCheckpoint(t *testing.T) {
	path := newPath(t)
	s := openStore(t, path, Options{NoSync: true})
	fill(t, s, 20)
	rep, err := s.VerifyIncremental(context.Background())
	if err != nil || !rep.OK || rep.From != 1 || rep.Records != 20 {
		t.Fatalf("first (full) verify: %+v %v", rep, err)
	}
	if seq, _, _ := s.Checkpoint(); seq != 20 {
		t.Fatalf("checkpoint after verify: #%d, want #20", seq)
	}
	fill(t, s, 5)
	rep, err = s.VerifyIncremental(context.Background())
	if err != nil || !rep.OK || rep.From != 21 || rep.Records != 25 || rep.HeadSeq != 25 {
		t.Fatalf("incremental verify: %+v %v, want from #21 to #25", rep, err)
	}
	if seq, _, _ := s.Checkpoint(); seq != 25 {
		t.Fatalf("checkpoint: #%d, want #25", seq)
	}
}

// editRecord changes record seq's outcome in the raw file (breaking its hash).
func editRecord(t *testing.T, path string, seq uint64) {
	t.Helper()
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		old := b.Get(seqKey(seq))
		v := bytes.Replace(old, []byte(`"actor":"`), []byte(`"actor":"x`), 1)
		if bytes.Equal(v, old) {
			t.Fatalf("record #%d not edited", seq)
		}
		return b.Put(seqKey(seq), v)
	})
}

func TestVerifyIncrementalFindsEditsAfterTheCheckpoint(t *testing.T) {
	path := newPath(t)
	s := openStore(t, path, Options{NoSync: true})
	fill(t, s, 10)
	if rep, err := s.VerifyIncremental(context.Background()); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	fill(t, s, 10)
	_ = s.Close()
	editRecord(t, path, 15)
	s2, err := Open(path, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rep, err := s2.VerifyIncremental(context.Background())
	if err != nil || rep.OK || rep.FirstBad != 15 || rep.From != 11 {
		t.Fatalf("verify after editing #15: %+v %v", rep, err)
	}
}

// A checkpoint edited to name another hash, or a record that no longer
// matches, is ignored: the log is verified in full and the edit is found.
func TestVerifyIncrementalIgnoresAForgedCheckpoint(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, path string, recs []Record)
	}{
		{"checkpoint names a wrong hash", func(t *testing.T, path string, recs []Record) {
			editRecord(t, path, 5)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				var h [32]byte
				h[0] = 1
				return tx.Bucket(bucketMeta).Put(keyVerified, encodeHead(18, h))
			})
		}},
		{"checkpointed record edited", func(t *testing.T, path string, recs []Record) {
			editRecord(t, path, 5)
			editRecord(t, path, 10)
		}},
		{"checkpoint beyond the log", func(t *testing.T, path string, recs []Record) {
			editRecord(t, path, 5)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyVerified, encodeHead(99, hashOfRec(t, recs[len(recs)-1])))
			})
		}},
		{"checkpoint unreadable", func(t *testing.T, path string, recs []Record) {
			editRecord(t, path, 5)
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyVerified, []byte("junk"))
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newPath(t)
			s := openStore(t, path, Options{NoSync: true})
			recs := fill(t, s, 10)
			if rep, err := s.VerifyIncremental(context.Background()); err != nil || !rep.OK {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			recs = append(recs, fill(t, s, 10)...)
			_ = s.Close()
			tt.tamper(t, path, recs)
			s2, err := Open(path, Options{ReadOnly: true, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			rep, err := s2.VerifyIncremental(context.Background())
			if err != nil || rep.OK || rep.FirstBad != 5 || rep.From != 1 {
				t.Fatalf("verify: %+v %v, want a full walk that finds #5", rep, err)
			}
		})
	}
}

func hashOfRec(t *testing.T, r Record) [32]byte {
	t.Helper()
	h, ok := parseHash(r.Hash)
	if !ok {
		t.Fatalf("bad hash %q", r.Hash)
	}
	return h
}

func TestVerifyIncrementalNote(t *testing.T) {
	path := newPath(t)
	s := openStore(t, path, Options{NoSync: true})
	fill(t, s, 3)
	if _, err := s.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if seq, _, _ := s.Checkpoint(); seq != 3 {
		t.Fatalf("Verify on a writable store did not save the checkpoint: #%d", seq)
	}
	_ = s.Close()
	editRecord(t, path, 3)
	s2, err := Open(path, Options{ReadOnly: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rep, _ := s2.VerifyIncremental(context.Background())
	if rep.OK || !strings.Contains(rep.Note, "checkpoint #3 does not match") {
		t.Fatalf("report %+v: want the note about the checkpoint", rep)
	}
}
