package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestChainRoundTrip(t *testing.T) {
	s, path := newStore(t, Options{})
	if seq, hash := s.Head(); seq != 0 || hash != zeroHashHex {
		t.Fatalf("empty Head = %d %s", seq, hash)
	}
	in := []Record{
		{Code: CodeGatewayStart, Door: DoorSystem},
		{Code: CodeAuthLogin, Actor: "alice", Door: DoorSSH, Source: "127.0.0.1:40000", Session: "s1",
			Outcome: OutcomeOK, Reason: "publickey SHA256:abc"},
		{Code: CodeDecision, Actor: "alice", Door: DoorSSH, Target: "node01", Action: "power.on",
			Outcome: OutcomeDeny, Reason: `no rule "x" \ y`, Fields: map[string]string{"role": "viewer", "b": "2", "a": "1"}},
		{Code: CodeBMCCall, Target: "node01", Action: "power.status", Outcome: OutcomeOK,
			Duration: 12345 * time.Microsecond, Data: []byte{0, 1, 2, 0x1b, 0xff}},
		{Code: CodeSessionEnd, Actor: "alice", Reason: "Grüße 日本 🙂", Duration: -time.Second},
	}
	var prev string = zeroHashHex
	var stored []Record
	before := time.Now().UTC()
	for i, r := range in {
		got := mustAppend(t, s, r)
		if got.Seq != uint64(i+1) {
			t.Errorf("record %d: Seq = %d", i, got.Seq)
		}
		if got.Prev != prev {
			t.Errorf("record %d: Prev = %s, want %s", i, got.Prev, prev)
		}
		if got.Time.Before(before) || got.Time.Location() != time.UTC {
			t.Errorf("record %d: Time = %v", i, got.Time)
		}
		if seq, hash := s.Head(); seq != got.Seq || hash != got.Hash {
			t.Errorf("Head = %d %s, want %d %s", seq, hash, got.Seq, got.Hash)
		}
		prev = got.Hash
		stored = append(stored, got)
	}
	for _, want := range stored {
		got, err := s.Get(context.Background(), want.Seq)
		if err != nil {
			t.Fatalf("Get(%d): %v", want.Seq, err)
		}
		if !equalRecords(got, want) {
			t.Errorf("Get(%d) = %+v\nwant %+v", want.Seq, got, want)
		}
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 5 || rep.HeadSeq != 5 || rep.HeadHash != prev {
		t.Fatalf("Verify = %+v", rep)
	}

	// Reopen: the chain continues where it ended.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path, Options{})
	if seq, hash := s2.Head(); seq != 5 || hash != prev {
		t.Fatalf("reopened Head = %d %s", seq, hash)
	}
	next := mustAppend(t, s2, Record{Code: CodeGatewayStop})
	if next.Seq != 6 || next.Prev != prev || next.Time.Before(stored[4].Time) {
		t.Fatalf("after reopen: %+v", next)
	}
	if rep := mustVerify(t, s2); !rep.OK || rep.Records != 6 {
		t.Fatalf("Verify after reopen = %+v", rep)
	}
	if _, err := s2.Get(context.Background(), 7); !errorsIs(err, ErrNotFound) {
		t.Fatalf("Get(7) error = %v, want ErrNotFound", err)
	}
}

// equalRecords compares records, treating nil and empty maps and slices alike.
func equalRecords(a, b Record) bool {
	if len(a.Fields) == 0 && len(b.Fields) == 0 {
		a.Fields, b.Fields = nil, nil
	}
	if len(a.Data) == 0 && len(b.Data) == 0 {
		a.Data, b.Data = nil, nil
	}
	return a.Time.Equal(b.Time) && reflect.DeepEqual(withoutTime(a), withoutTime(b))
}

func withoutTime(r Record) Record { r.Time = time.Time{}; return r }

// auditorRecord re-implements the documented canonical form with
// encoding/json, as an external auditor might: fixed field order, every key
// present, sorted fields (encoding/json sorts map keys).
type auditorRecord struct {
	Seq      uint64            `json:"seq"`
	Time     string            `json:"time"`
	Code     string            `json:"code"`
	Actor    string            `json:"actor"`
	Door     string            `json:"door"`
	Source   string            `json:"source"`
	Session  string            `json:"session"`
	Target   string            `json:"target"`
	Action   string            `json:"action"`
	Outcome  string            `json:"outcome"`
	Reason   string            `json:"reason"`
	Duration int64             `json:"duration_ns"`
	Fields   map[string]string `json:"fields"`
	Data     []byte            `json:"data"`
	Prev     string            `json:"prev"`
}

// encode writes a as the auditor reads the canonical form: encoding/json
// without HTML escaping, "{}" and "" for no fields and no data.
func (a auditorRecord) encode() ([]byte, error) {
	if a.Fields == nil {
		a.Fields = map[string]string{}
	}
	if a.Data == nil {
		a.Data = []byte{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func TestCanonicalFormIsReimplementable(t *testing.T) {
	s, path := newStore(t, Options{})
	mustAppend(t, s, Record{Code: CodeCmdRun, Actor: "bob", Reason: "quote \" backslash \\ tab \t esc \x1b bidi \u202e <&>",
		Fields: map[string]string{"z": "1", "a": "ü"}, Data: []byte("console bytes \x1b[2J")})
	mustAppend(t, s, Record{Code: CodeGatewayStop, Duration: 1500 * time.Millisecond})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prev := make([]byte, 32)
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("records")).ForEach(func(k, v []byte) error {
			var stored struct {
				auditorRecord
				Hash string `json:"hash"`
			}
			if err := json.Unmarshal(v, &stored); err != nil {
				return err
			}
			canonical, err := stored.auditorRecord.encode()
			if err != nil {
				return err
			}
			if want := append(bytes.Clone(canonical[:len(canonical)-1]), []byte(`,"hash":"`+stored.Hash+`"}`)...); !bytes.Equal(want, v) {
				t.Errorf("stored value\n%s\nis not canonical+hash\n%s", v, want)
			}
			sum := sha256.Sum256(append(bytes.Clone(prev), canonical...))
			if hex.EncodeToString(sum[:]) != stored.Hash {
				t.Errorf("record %x: auditor hash %x != stored %s", k, sum, stored.Hash)
			}
			if stored.Prev != hex.EncodeToString(prev) {
				t.Errorf("record %x: prev %s", k, stored.Prev)
			}
			prev = sum[:]
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimeIsMonotonic(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	base := time.Date(2026, 11, 24, 16, 41, 5, 123456789, time.UTC)
	clock := []time.Time{base, base.Add(-time.Hour), base.Add(time.Second), base.Add(2 * time.Second).In(time.FixedZone("X", 3600))}
	i := 0
	s.now = func() time.Time { t := clock[i]; i++; return t }
	var got []time.Time
	for range clock {
		got = append(got, mustAppend(t, s, Record{Code: CodeCmdRun, Time: base.Add(-48 * time.Hour)}).Time)
	}
	want := []time.Time{base, base, base.Add(time.Second), base.Add(2 * time.Second)}
	for i := range want {
		if !got[i].Equal(want[i]) || got[i].Location() != time.UTC {
			t.Errorf("record %d time = %v, want %v", i+1, got[i], want[i])
		}
	}
	if rep := mustVerify(t, s); !rep.OK {
		t.Fatalf("Verify = %+v", rep)
	}
}
