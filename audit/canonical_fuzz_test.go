package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
)

// auditorCanonical encodes r as TestCanonicalFormIsReimplementable's
// external auditor does, with encoding/json.
func auditorCanonical(t *testing.T, r *Record) []byte {
	t.Helper()
	b, err := auditorRecord{Seq: r.Seq, Time: r.Time.UTC().Format(time.RFC3339Nano), Code: r.Code, Actor: r.Actor,
		Door: r.Door, Source: r.Source, Session: r.Session, Target: r.Target, Action: r.Action, Outcome: r.Outcome,
		Reason: r.Reason, Duration: int64(r.Duration), Fields: r.Fields, Data: r.Data, Prev: r.Prev}.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzCanonicalRecord builds a record from arbitrary values as Append
// does (sanitized, UTC time, hex prev) and checks the canonical encoding:
// it is what an independent encoding/json implementation writes, it does
// not depend on map order, it decodes back to the same record, the stored
// form passes Verify's normal-form check, the hash is stable through a
// decode, moving text between two fields changes it, and no raw control
// or format character survives sanitizing.
func FuzzCanonicalRecord(f *testing.F) {
	f.Add(uint64(1), int64(1795538465123400000), int64(12345), "cmd.run", "alice", "ssh", "no rule \"x\" \\ y", "command", "power on node01", []byte("\x1b[2J"), []byte{})
	f.Add(uint64(1<<63), int64(0), int64(-1), "", "\x1b]0;x\a", "\u202e", "\xff\xfe", "\u2028", "\x00", []byte(nil), []byte("p"))
	f.Add(uint64(42), int64(-62135596800000000000/1000), int64(1<<62), "a.b", "", "", strings.Repeat("é", 3000), "", "", []byte{0, 0xff}, []byte("prev"))
	f.Fuzz(func(t *testing.T, seq uint64, unixNano, dur int64, code, actor, door, reason, fk, fv string, data, prevSeed []byte) {
		if len(data) > MaxDataSize {
			data = data[:MaxDataSize]
		}
		r := Record{Seq: seq, Time: time.Unix(0, unixNano), Code: code, Actor: actor, Door: door, Source: fv,
			Session: fk, Target: actor + door, Action: code, Outcome: door, Reason: reason, Duration: time.Duration(dur),
			Fields: map[string]string{fk: fv, "b": actor, "a": reason, "": door}, Data: data}
		sanitizeRecord(&r)
		r.Time = r.Time.UTC()
		prev := sha256.Sum256(prevSeed)
		if len(prevSeed) == 0 {
			prev = [32]byte{}
		}
		r.Prev = hex.EncodeToString(prev[:])

		if !escaped(&r) {
			t.Fatalf("sanitized record holds a raw control or format character: %+v", r)
		}
		canonical, sum := hashRecord(&r, prev)
		if !json.Valid(canonical) {
			t.Fatalf("canonical bytes are not JSON: %s", canonical)
		}
		if want := auditorCanonical(t, &r); !bytes.Equal(canonical, want) {
			t.Fatalf("canonical bytes\n%s\ndiffer from encoding/json's\n%s", canonical, want)
		}
		// Map order, a second encoding and a copy of the fields do not matter.
		r2 := r
		r2.Fields = maps.Clone(r.Fields)
		if c2, s2 := hashRecord(&r2, prev); !bytes.Equal(c2, canonical) || s2 != sum {
			t.Fatal("canonical bytes or hash differ for the same record")
		}
		r.Hash = hex.EncodeToString(sum[:])
		stored := storedForm(bytes.Clone(canonical), r.Hash)
		d, err := decodeStored(stored)
		if err != nil {
			t.Fatalf("stored form does not decode: %v\n%s", err, stored)
		}
		if !equalRecords(d, r) {
			t.Fatalf("decoded %+v\nwant %+v", d, r)
		}
		if !bytes.Equal(encodeStored(&d), stored) {
			t.Fatalf("re-encoded record is not the stored form:\n%s\n%s", encodeStored(&d), stored)
		}
		if again := chainHash(mustPrev(d.Prev), appendCanonical(nil, &d)); again != sum {
			t.Fatal("hash changed through a decode")
		}
		// Text moved from one field to its neighbour is another record.
		if r.Door != "" {
			m := r
			m.Actor, m.Door = r.Actor+r.Door, ""
			if bytes.Equal(appendCanonical(nil, &m), canonical) {
				t.Fatalf("moving %q from door to actor leaves the canonical bytes unchanged", r.Door)
			}
		}
	})
}

// FuzzDecodeStored feeds arbitrary stored values to Verify's check of one
// record: it never panics, and whatever it accepts is in canonical stored
// form, chains to the zero hash, matches its hash and is escaped.
func FuzzDecodeStored(f *testing.F) {
	r := Record{Seq: 1, Time: time.Date(2026, 11, 24, 16, 41, 5, 123400000, time.UTC), Code: CodeCmdRun, Actor: "alice",
		Fields: map[string]string{"command": "power on node01"}, Data: []byte("x"), Prev: zeroHashHex}
	canonical, sum := hashRecord(&r, [32]byte{})
	f.Add(storedForm(canonical, hex.EncodeToString(sum[:])))
	f.Add([]byte(`{"seq":1,"Seq":2,"time":"2026-11-24T16:41:05Z","code":"x","hash":"00","prev":"zz"}`))
	f.Add([]byte(`{"seq":1,"time":"10000-01-01T00:00:00Z","fields":{"a":"\u001b"},"data":"!!"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, v []byte) {
		d, err := decodeStored(v)
		if err != nil {
			return
		}
		_ = FormatText(d)
		vf := &verifier{expect: 1}
		if !vf.check(seqKey(1), v) {
			if vf.problem == "" || strings.ContainsFunc(vf.problem, unsafeRune) {
				t.Fatalf("refusal without a clean problem: %q", vf.problem)
			}
			return
		}
		if !bytes.Equal(encodeStored(&d), v) || d.Prev != zeroHashHex || !escaped(&d) {
			t.Fatalf("accepted %s", v)
		}
		if sum := chainHash([32]byte{}, appendCanonical(nil, &d)); hex.EncodeToString(sum[:]) != d.Hash {
			t.Fatalf("accepted %s with a wrong hash", v)
		}
	})
}
