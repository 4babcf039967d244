package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// storedOf returns the stored form of r chained onto prev.
func storedOf(r Record, prev [32]byte) []byte {
	sanitizeRecord(&r)
	r.Time = r.Time.UTC()
	r.Prev = hex.EncodeToString(prev[:])
	canonical, sum := hashRecord(&r, prev)
	return storedForm(canonical, hex.EncodeToString(sum[:]))
}

// TestScanStoredAcceptsWhatAppendWrites: every record Append stores takes
// Verify's fast path, whatever its fields hold.
func TestScanStoredAcceptsWhatAppendWrites(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	for _, r := range []Record{
		{Code: CodeCmdRun},
		{Code: CodeCmdRun, Actor: "alice", Reason: `quote " backslash \ tab` + "\t esc \x1b bidi \u202e nul \x00 bad \xff", Duration: -5},
		{Code: CodeConsoleOutput, Data: []byte{0}, Fields: map[string]string{"b": "2", "a": "1", "": "empty", "é": "ü"}},
		{Code: CodeConsoleOutput, Data: []byte{1, 2}, Session: "s1", Target: "node01", Duration: 1 << 62},
		{Code: CodeConsoleOutput, Data: bytes.Repeat([]byte{0xfe}, 999)},
		{Code: CodeBMCCall, Fields: map[string]string{"k\"ey": "v"}}, // escaped key: the slow path
	} {
		mustAppend(t, s, r)
	}
	must(t, s.settle(context.Background())) // the applier has committed what was appended
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			seq, _ := keySeq(k)
			raw, ok := scanStored(v)
			if seq == 6 {
				if ok {
					t.Errorf("#6 with a quote in a Fields key took the fast path")
				}
				return nil
			}
			if !ok || raw.seq != seq {
				t.Errorf("#%d: scanStored refused %s", seq, v)
			}
			if _, ok := raw.parseTime(); !ok {
				t.Errorf("#%d: time not canonical: %s", seq, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 6 {
		t.Fatalf("Verify = %+v", rep)
	}
}

// FuzzScanStored: whatever the fast path accepts, the slow path (decode,
// re-encode, compare) accepts too, with the same parts.
func FuzzScanStored(f *testing.F) {
	at := time.Date(2026, 11, 24, 16, 41, 5, 123400000, time.UTC)
	f.Add(storedOf(Record{Seq: 1, Time: at, Code: CodeCmdRun, Actor: "alice", Fields: map[string]string{"command": "power on"}, Data: []byte("x")}, [32]byte{}))
	f.Add(storedOf(Record{Seq: 7, Time: at, Code: CodeCmdRun, Reason: `a "b" \c`, Duration: -3, Data: []byte("xy")}, sha256.Sum256(nil)))
	f.Add(storedOf(Record{Seq: 1 << 60, Time: at.Add(time.Hour), Code: "a.b", Fields: map[string]string{"a": "1", "b": "é\u00a0"}}, [32]byte{1}))
	f.Add([]byte(`{"seq":01,"time":"2026-11-24T16:41:05Z"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		raw, ok := scanStored(v)
		if !ok {
			return
		}
		tm, ok := raw.parseTime()
		if !ok {
			return
		}
		d, err := decodeStored(v)
		if err != nil {
			t.Fatalf("fast path accepted undecodable %s: %v", v, err)
		}
		if !bytes.Equal(encodeStored(&d), v) {
			t.Fatalf("fast path accepted a non-canonical form:\n%s\n%s", v, encodeStored(&d))
		}
		if !escaped(&d) {
			t.Fatalf("fast path accepted an unescaped string: %s", v)
		}
		canonical := append(bytes.Clone(v[:raw.hashAt]), '}')
		if d.Seq != raw.seq || !d.Time.Equal(tm) || d.Prev != string(raw.prevHex()) || d.Hash != string(raw.hashHex()) ||
			!bytes.Equal(canonical, appendCanonical(nil, &d)) {
			t.Fatalf("fast path parts differ from the decoded record: %s", v)
		}
		for i, want := range []string{d.Code, d.Actor, d.Door, d.Source, d.Session, d.Target, d.Action, d.Outcome, d.Reason} {
			if got := appendJSONString(nil, want); !bytes.Equal(got[1:len(got)-1], raw.field(i)) {
				t.Fatalf("field %d: span %q, decoded %q", i, raw.field(i), want)
			}
		}
	})
}

// TestVerifyFastAndSlowAgree: a log verified by the fast path gives the
// report the decoding path gives.
func TestVerifyFastAndSlowAgree(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	fill(t, s, 300)
	fast := mustVerify(t, s)
	v := &verifier{expect: 1}
	must(t, s.settle(context.Background())) // the applier has committed what was appended
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).ForEach(func(k, val []byte) error {
			v.checkSlow(k, val)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.expect-1 != fast.Records || hex.EncodeToString(v.prevHash[:]) != fast.HeadHash || !fast.OK {
		t.Fatalf("fast %+v, slow reached #%d", fast, v.expect-1)
	}
}
