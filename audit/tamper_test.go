package audit

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// records returns the records and meta buckets of a raw transaction.
func buckets(tx *bolt.Tx) (*bolt.Bucket, *bolt.Bucket) {
	return tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
}

// rawRecord decodes the stored record seq.
func rawRecord(t *testing.T, tx *bolt.Tx, seq uint64) Record {
	t.Helper()
	r, err := decodeStored(tx.Bucket(bucketRecords).Get(seqKey(seq)))
	if err != nil {
		t.Fatalf("decode #%d: %v", seq, err)
	}
	return r
}

// forge stores r under r.Seq chained onto prev, with a correct hash, as an
// attacker who knows the format would, and returns its hash.
func forge(t *testing.T, tx *bolt.Tx, r Record, prev [32]byte) [32]byte {
	t.Helper()
	r.Prev = hex.EncodeToString(prev[:])
	canonical, sum := hashRecord(&r, prev)
	if err := tx.Bucket(bucketRecords).Put(seqKey(r.Seq), storedForm(canonical, hex.EncodeToString(sum[:]))); err != nil {
		t.Fatal(err)
	}
	return sum
}

func hashOf(t *testing.T, r Record) [32]byte {
	t.Helper()
	h, ok := parseHash(r.Hash)
	if !ok {
		t.Fatalf("bad hash %q", r.Hash)
	}
	return h
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n = 10
	tests := []struct {
		name     string
		tamper   func(t *testing.T, tx *bolt.Tx)
		firstBad uint64
		problem  string // substring of Problem
	}{
		{"edit a field", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			v := bytes.Replace(b.Get(seqKey(5)), []byte(`"outcome":"deny"`), []byte(`"outcome":"allow"`), 1)
			if bytes.Equal(v, b.Get(seqKey(5))) {
				t.Fatal("edit did not apply")
			}
			must(t, b.Put(seqKey(5), v))
		}, 5, "does not match its hash"},
		{"edit a field and rehash it", func(t *testing.T, tx *bolt.Tx) {
			r := rawRecord(t, tx, 5)
			r.Outcome = OutcomeAllow
			forge(t, tx, r, hashOf(t, rawRecord(t, tx, 4)))
		}, 6, "does not chain to record #5"},
		{"edit the Prev only", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			r := rawRecord(t, tx, 5)
			r.Prev = strings.Repeat("ab", 32)
			must(t, b.Put(seqKey(5), encodeStored(&r)))
		}, 5, "does not match its hash"},
		{"non-canonical whitespace", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put(seqKey(5), append([]byte("{ "), b.Get(seqKey(5))[1:]...)))
		}, 5, "not in canonical stored form"},
		{"unknown field added", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put(seqKey(3), append([]byte(`{"x":1,`), b.Get(seqKey(3))[1:]...)))
		}, 3, "not in canonical stored form"},
		{"delete a record", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Delete(seqKey(5)))
		}, 5, "record #5 is missing"},
		{"delete the first record", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Delete(seqKey(1)))
		}, 1, "record #1 is missing"},
		{"insert a forged record past the head", func(t *testing.T, tx *bolt.Tx) {
			forge(t, tx, Record{Seq: n + 1, Code: CodeCmdRun, Time: rawRecord(t, tx, n).Time}, hashOf(t, rawRecord(t, tx, n)))
		}, n + 1, "past the chain head #10"},
		{"insert key zero", func(t *testing.T, tx *bolt.Tx) {
			forge(t, tx, Record{Seq: 0, Code: CodeCmdRun}, [32]byte{})
		}, 1, "key #0"},
		{"insert a short key", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put([]byte{0, 0, 0, 0}, []byte("{}")))
		}, 1, "not an 8-byte sequence number (4 bytes"},
		{"insert a long key at the end", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put([]byte("zzzzzzzzzz"), []byte("{}")))
		}, n + 1, "not an 8-byte sequence number (10 bytes"},
		{"swap two values", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			v3, v7 := bytes.Clone(b.Get(seqKey(3))), bytes.Clone(b.Get(seqKey(7)))
			must(t, b.Put(seqKey(3), v7))
			must(t, b.Put(seqKey(7), v3))
		}, 3, "stored as #3 says it is #7"},
		{"duplicate a record", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put(seqKey(6), bytes.Clone(b.Get(seqKey(5)))))
		}, 6, "stored as #6 says it is #5"},
		{"replace a record by a forged one renumbered", func(t *testing.T, tx *bolt.Tx) {
			r := rawRecord(t, tx, 7)
			r.Seq = 6
			forge(t, tx, r, hashOf(t, rawRecord(t, tx, 5)))
		}, 7, "does not chain to record #6"},
		{"truncate the tail", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Delete(seqKey(9)))
			must(t, b.Delete(seqKey(10)))
		}, 9, "records #9 to #10 are missing"},
		{"meta head garbage", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			must(t, m.Put(keyHead, []byte("\x1b[2J")))
		}, n, "unreadable (4 bytes)"},
		{"meta head wrong hash", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			must(t, m.Put(keyHead, encodeHead(n, [32]byte{1})))
		}, n, "chain head names hash 0100"},
		{"meta head ahead", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			must(t, m.Put(keyHead, encodeHead(n+2, [32]byte{})))
		}, n + 1, "records #11 to #12 are missing"},
		{"meta head behind", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			must(t, m.Put(keyHead, encodeHead(8, hashOf(t, rawRecord(t, tx, 8)))))
		}, 9, "records #9 to #10 lie past the chain head #8"},
		{"meta head deleted", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			must(t, m.Delete(keyHead))
		}, n, "chain head in meta is missing"},
		{"meta bucket deleted", func(t *testing.T, tx *bolt.Tx) {
			must(t, tx.DeleteBucket(bucketMeta))
		}, n, "meta bucket is missing"},
		{"records bucket deleted", func(t *testing.T, tx *bolt.Tx) {
			must(t, tx.DeleteBucket(bucketRecords))
		}, 1, "records #1 to #10 are missing"},
		{"garbage value with escape codes", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put(seqKey(4), []byte("\x1b]52;c;Zm9v\x07\x1b[2J")))
		}, 4, "record #4 cannot be decoded"},
		{"empty value", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Put(seqKey(2), []byte{}))
		}, 2, "record #2 cannot be decoded"},
		{"nested bucket instead of a record", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			must(t, b.Delete(seqKey(6)))
			_, err := b.CreateBucket(seqKey(6))
			must(t, err)
		}, 6, "nested bucket"},
		{"malformed hash", func(t *testing.T, tx *bolt.Tx) {
			b, _ := buckets(tx)
			r := rawRecord(t, tx, 8)
			r.Hash = strings.ToUpper(r.Hash)
			must(t, b.Put(seqKey(8), encodeStored(&r)))
		}, 8, "malformed hash"},
		{"rewritten record with a raw escape sequence", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			r := rawRecord(t, tx, n)
			r.Reason = "\x1b]52;c;cm0gLXJmIC8=\x07"
			must(t, m.Put(keyHead, encodeHead(n, forge(t, tx, r, hashOf(t, rawRecord(t, tx, n-1))))))
		}, n, "unescaped control"},
		{"rewritten tail with time going backwards", func(t *testing.T, tx *bolt.Tx) {
			_, m := buckets(tx)
			prev := hashOf(t, rawRecord(t, tx, 6))
			early := rawRecord(t, tx, 6).Time.Add(-time.Minute)
			for seq := uint64(7); seq <= n; seq++ {
				r := rawRecord(t, tx, seq)
				r.Time = early
				prev = forge(t, tx, r, prev)
			}
			must(t, m.Put(keyHead, encodeHead(n, prev)))
		}, 7, "record #7 is older"},
	}
	s, base := newStore(t, Options{NoSync: true})
	fill(t, s, n)
	must(t, s.Close())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := copyDB(t, base)
			rawUpdate(t, path, func(tx *bolt.Tx) error { tt.tamper(t, tx); return nil })
			rep := verifyOffline(t, path)
			if rep.OK || rep.FirstBad != tt.firstBad || !strings.Contains(rep.Problem, tt.problem) {
				t.Errorf("Verify = %+v\nwant FirstBad %d, problem containing %q", rep, tt.firstBad, tt.problem)
			}
			if strings.ContainsFunc(rep.Problem, unsafeRune) || strings.Contains(rep.Problem, "\n") {
				t.Errorf("Problem is not escaped: %q", rep.Problem)
			}
			if rep.Records+1 < tt.firstBad {
				t.Errorf("Records = %d", rep.Records)
			}
		})
	}
}

func TestVerifyUntamperedIsReadOnly(t *testing.T) {
	s, path := newStore(t, Options{NoSync: true})
	recs := fill(t, s, 25)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	rep := verifyOffline(t, path)
	last := recs[len(recs)-1]
	if !rep.OK || rep.Records != 25 || rep.HeadSeq != 25 || rep.HeadHash != last.Hash || rep.FirstBad != 0 || rep.Problem != "" {
		t.Fatalf("Verify = %+v", rep)
	}
	if fileSum(t, path) != before {
		t.Fatal("Verify modified the file")
	}
}

func TestVerifyAcrossChunks(t *testing.T) {
	s, path := newStore(t, Options{NoSync: true})
	const n = verifyChunk*2 + 10
	concurrentFill(t, s, n)
	if rep := mustVerify(t, s); !rep.OK || rep.Records != n {
		t.Fatalf("Verify = %+v", rep)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete(seqKey(verifyChunk + 1)) })
	if rep := verifyOffline(t, path); rep.OK || rep.FirstBad != verifyChunk+1 {
		t.Fatalf("Verify after deleting #%d = %+v", verifyChunk+1, rep)
	}
}

// A writable Open refuses to extend a log whose tail does not match its head.
func TestOpenRefusesTamperedTail(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(tx *bolt.Tx) error
	}{
		{"tail truncated", func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete(seqKey(3)) }},
		{"head garbage", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyHead, []byte("x")) }},
		{"head missing", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyHead) }},
		{"last record edited", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).Put(seqKey(3), []byte(`{"seq":3,"hash":"00"}`))
		}},
		{"last record garbage", func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Put(seqKey(3), []byte("zz")) }},
		{"record past head", func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Put(seqKey(4), []byte("{}")) }},
		{"unknown format", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("other/9")) }},
	}
	s, base := newStore(t, Options{NoSync: true})
	fill(t, s, 3)
	must(t, s.Close())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := copyDB(t, base)
			rawUpdate(t, path, tt.tamper)
			if s2, err := Open(path, Options{Logger: quietLogger()}); !errorsIs(err, ErrCorrupt) {
				if err == nil {
					s2.Close()
				}
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
