package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Records  uint64 `json:"records"`   // records checked and found good
	HeadSeq  uint64 `json:"head_seq"`  // last good record (the head when OK)
	HeadHash string `json:"head_hash"` // its hash (64 zeros for an empty log)
	OK       bool   `json:"ok"`
	// FirstBad is the first bad sequence number when !OK: the edited,
	// undecodable or misplaced record; the first missing one for a gap or a
	// truncated tail; the first record past the chain head for records
	// appended behind the gateway's back; the last record when the chain
	// head in the meta bucket is unreadable or names another hash.
	FirstBad uint64 `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"` // the first problem, one escaped line
	// From is the first record this verification checked: 1 for a full
	// verification, the record after the checkpoint for VerifyIncremental
	// (the records before it were found good by an earlier verification).
	From uint64 `json:"from,omitempty"`
	// Note says why a checkpoint was not used, when it was not.
	Note string `json:"note,omitempty"`
}

// verifyChunk is the number of records checked per read transaction.
const verifyChunk = 4096

// Verify walks the whole log and checks every record: keys are 8-byte
// sequence numbers 1, 2, 3, ... without gaps; each value decodes, is in the
// stored form of canonical.go, carries its own key's Seq, chains to the
// previous record's hash, has a correct hash and a time no earlier than its
// predecessor's, and no raw control or format character in its strings; and
// the chain head in the meta bucket names the last record
// and its hash. It stops at the first problem.
//
// Verify only reads: it works on a ReadOnly store (offline tools) as well as
// on the gateway's own store while appends go on, checking in short read
// transactions. It never panics on a damaged file. Problems with the log are
// reported in the VerifyReport; the error is for failures to check at all
// (closed store, cancelled ctx, unreadable file).
//
// On a writable store a good result is kept as the verified checkpoint that
// VerifyIncremental starts from.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	rep, err := s.verifyFrom(ctx, &verifier{expect: 1})
	if err == nil && rep.OK && !s.readOnly {
		if err := s.saveCheckpoint(rep.HeadSeq, rep.HeadHash); err != nil {
			return rep, fmt.Errorf("audit: verify: save checkpoint: %w", err)
		}
	}
	return rep, err
}

// verifyFrom walks the log from v's position (after the record expect-1).
func (s *Store) verifyFrom(ctx context.Context, v *verifier) (VerifyReport, error) {
	var resume []byte // last key checked; the next transaction continues after it
	if v.expect > 1 {
		resume = seqKey(v.expect - 1)
	}
	v.from = v.expect
	if err := s.settle(ctx); err != nil {
		return VerifyReport{}, fmt.Errorf("audit: verify: %w", err)
	}
	if err := s.view(func(tx *bolt.Tx) error { v.startIndexCheck(tx); return nil }); err != nil {
		return VerifyReport{}, fmt.Errorf("audit: verify: %w", err)
	}
	for !v.done {
		if err := checkCtx(ctx); err != nil {
			return VerifyReport{}, err
		}
		err := s.view(func(tx *bolt.Tx) error {
			v.idx.ib = nil
			if v.idx.mode == idxProbe {
				v.idx.ib = openIdx(tx, false)
			}
			resume = v.walk(tx, resume)
			return nil
		})
		if err != nil {
			return VerifyReport{}, fmt.Errorf("audit: verify: %w", err)
		}
	}
	if v.firstBad == 0 && v.idx.mode == idxSums {
		if err := s.checkIndexSums(ctx, v); err != nil {
			return VerifyReport{}, err
		}
	}
	if v.firstBad == 0 {
		s.verifyTail(v)
	}
	if v.idx.mode == idxNone && v.expect > 1 {
		v.skipNote = joinNote(v.skipNote, "the log has no search indexes (search scans it); a gateway start or bmcgate audit reindex builds them")
	}
	return v.report(), nil
}

// verifier carries the walk's state across read transactions.
type verifier struct {
	expect   uint64    // next expected sequence number
	prevHash [32]byte  // hash of record expect-1
	lastTime time.Time // time of record expect-1
	h        hash.Hash // SHA-256, reused
	idx      idxCheck
	done     bool
	firstBad uint64
	problem  string
	from     uint64 // first record this walk checks
	skipNote string // why a checkpoint was not used
}

// walk checks up to verifyChunk records after resume (from the start when
// nil); at the end of the records it also checks the meta head in the same
// transaction. It returns the new resume key.
func (v *verifier) walk(tx *bolt.Tx, resume []byte) []byte {
	b := tx.Bucket(bucketRecords)
	if b == nil {
		v.checkMeta(tx.Bucket(bucketMeta))
		return resume
	}
	c := b.Cursor()
	var k, val []byte
	if resume == nil {
		k, val = c.First()
	} else if k, val = c.Seek(resume); bytes.Equal(k, resume) {
		k, val = c.Next()
	}
	for n := 0; k != nil; k, val = c.Next() {
		if n == verifyChunk {
			return resume
		}
		if !v.check(k, val) {
			return resume
		}
		resume = bytes.Clone(k)
		n++
	}
	v.checkMeta(tx.Bucket(bucketMeta))
	return resume
}

// fail records the first problem and ends the walk.
func (v *verifier) fail(seq uint64, format string, args ...any) bool {
	v.done, v.firstBad = true, max(seq, 1)
	v.problem = Sanitize(fmt.Sprintf(format, args...))
	return false
}

// check verifies one record; false ends the walk. Good records take the
// fast path (checkRaw); anything it does not accept is checked again by
// checkSlow, which decodes it and names the problem.
func (v *verifier) check(k, val []byte) bool {
	seq, ok := keySeq(k)
	if ok && seq == v.expect && val != nil && v.checkRaw(seq, val) {
		return v.noteIndex(seq, val)
	}
	return v.checkSlow(k, val) && v.noteIndex(seq, val)
}

// checkRaw verifies record seq on its stored bytes: stored form, sequence
// number, chain, hash and time order, hashing the stored canonical bytes
// without decoding or encoding them. It returns false, changing nothing,
// when any check fails.
func (v *verifier) checkRaw(seq uint64, val []byte) bool {
	raw, ok := scanStored(val)
	if !ok || raw.seq != seq {
		return false
	}
	var want [64]byte
	hex.Encode(want[:], v.prevHash[:])
	if !bytes.Equal(raw.prevHex(), want[:]) {
		return false
	}
	t, ok := raw.parseTime()
	if !ok || (seq > 1 && t.Before(v.lastTime)) {
		return false
	}
	if v.h == nil {
		v.h = sha256.New()
	}
	v.h.Reset()
	v.h.Write(v.prevHash[:])
	v.h.Write(val[:raw.hashAt])
	v.h.Write([]byte{'}'})
	var sum [32]byte
	v.h.Sum(sum[:0])
	hex.Encode(want[:], sum[:])
	if !bytes.Equal(raw.hashHex(), want[:]) {
		return false
	}
	v.prevHash, v.lastTime = sum, t
	v.expect++
	return true
}

// checkSlow verifies one record by decoding it; false ends the walk.
func (v *verifier) checkSlow(k, val []byte) bool {
	seq, ok := keySeq(k)
	switch {
	case !ok:
		return v.fail(v.expect, "records bucket holds a key that is not an 8-byte sequence number (%d bytes: %s) where record #%d should be",
			len(k), shortHex(k), v.expect)
	case seq < v.expect:
		return v.fail(v.expect, "records bucket holds key #%d; sequence numbers start at 1", seq)
	case seq > v.expect:
		return v.fail(v.expect, "record #%d is missing (deleted): the next record is #%d", v.expect, seq)
	case val == nil:
		return v.fail(seq, "record #%d is a nested bucket, not a record", seq)
	}
	r, err := decodeStored(val)
	if err != nil {
		return v.fail(seq, "record #%d cannot be decoded: %v", seq, err)
	}
	if r.Seq != seq {
		return v.fail(seq, "record stored as #%d says it is #%d (inserted or moved)", seq, r.Seq)
	}
	if !bytes.Equal(encodeStored(&r), val) {
		return v.fail(seq, "record #%d is not in canonical stored form (edited)", seq)
	}
	if _, ok := parseHash(r.Hash); !ok {
		return v.fail(seq, "record #%d has a malformed hash", seq)
	}
	if sum := chainHash(mustPrev(r.Prev), appendCanonical(nil, &r)); hex.EncodeToString(sum[:]) != r.Hash {
		return v.fail(seq, "record #%d does not match its hash (edited)", seq)
	}
	if want := hex.EncodeToString(v.prevHash[:]); r.Prev != want {
		if seq == 1 {
			return v.fail(seq, "record #1 does not start the chain: prev is %s, not 64 zeros", r.Prev)
		}
		return v.fail(seq, "record #%d does not chain to record #%d: prev %s, but #%d has hash %s (inserted, reordered or rewritten)",
			seq, seq-1, r.Prev, seq-1, want)
	}
	if !escaped(&r) {
		return v.fail(seq, "record #%d holds an unescaped control or format character (not written by Append)", seq)
	}
	if seq > 1 && r.Time.Before(v.lastTime) {
		return v.fail(seq, "record #%d is older (%s) than record #%d (%s)", seq, r.Time.Format(timeLayout), seq-1, v.lastTime.Format(timeLayout))
	}
	v.prevHash, _ = parseHash(r.Hash)
	v.lastTime = r.Time
	v.expect++
	return true
}

// escaped reports whether every string field of r is free of characters
// that Sanitize escapes, as Append leaves them.
func escaped(r *Record) bool {
	for _, f := range []string{r.Code, r.Actor, r.Door, r.Source, r.Session, r.Target, r.Action, r.Outcome, r.Reason} {
		if strings.ContainsFunc(f, unsafeRune) {
			return false
		}
	}
	for k, val := range r.Fields {
		if strings.ContainsFunc(k, unsafeRune) || strings.ContainsFunc(val, unsafeRune) {
			return false
		}
	}
	return true
}

// mustPrev decodes a Prev for hashing; a malformed one hashes as all ones so
// that the hash check fails rather than panics.
func mustPrev(s string) [32]byte {
	if h, ok := parseHash(s); ok {
		return h
	}
	var h [32]byte
	for i := range h {
		h[i] = 0xff
	}
	return h
}

// checkMeta compares the chain head in meta with the last record walked.
func (v *verifier) checkMeta(meta *bolt.Bucket) {
	v.done = true
	last := v.expect - 1
	if meta == nil {
		if last > 0 {
			v.fail(last, "meta bucket is missing: the end of the log cannot be checked")
		}
		return
	}
	if f := meta.Get(keyFormat); f != nil && string(f) != formatVersion {
		v.fail(1, "unknown format %q", f)
		return
	}
	head := meta.Get(keyHead)
	if head == nil {
		if last > 0 {
			v.fail(last, "chain head in meta is missing: the end of the log cannot be checked")
		}
		return
	}
	seq, hash, ok := decodeHead(head)
	switch {
	case !ok:
		v.fail(last, "chain head in meta is unreadable (%d bytes): the end of the log cannot be checked", len(head))
	case seq > last:
		v.fail(last+1, "records #%d to #%d are missing: the chain head is #%d (tail truncated)", last+1, seq, seq)
	case seq < last:
		v.fail(seq+1, "records #%d to #%d lie past the chain head #%d (appended outside the gateway)", seq+1, last, seq)
	case hash != v.prevHash:
		v.fail(last, "chain head names hash %s for #%d, but the record's hash is %s", hex.EncodeToString(hash[:]), seq, hex.EncodeToString(v.prevHash[:]))
	}
}

func (v *verifier) report() VerifyReport {
	return VerifyReport{
		Records:  v.expect - 1,
		HeadSeq:  v.expect - 1,
		HeadHash: hex.EncodeToString(v.prevHash[:]),
		OK:       v.firstBad == 0,
		FirstBad: v.firstBad,
		Problem:  v.problem,
		From:     v.from,
		Note:     v.skipNote,
	}
}

// shortHex shows at most 16 bytes of k in hex.
func shortHex(k []byte) string {
	if len(k) > 16 {
		return hex.EncodeToString(k[:16]) + "..."
	}
	return hex.EncodeToString(k)
}
