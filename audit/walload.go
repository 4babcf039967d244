package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// walRec is an acknowledged record in its stored form.
type walRec struct {
	seq    uint64
	stored []byte
	hash   [32]byte
}

// walState is what the WAL files of a store hold beyond the database.
type walState struct {
	segs []walSeg
	recs []walRec // records after the database's head, in order
	hash [32]byte // hash of the last of them
	time time.Time
	torn string // "file at offset N" of a discarded incomplete frame
}

// loadWAL reads the WAL files of the store's database and checks them
// against its head (headSeq, headHash, headTime, loaded by loadHead): every
// frame's checksum; sequence numbers without a gap from each file's header
// on; the header's and the records' chain with the database (records the
// database holds must carry the same hashes; the first newer record must
// chain to its head); and every newer record as Verify checks one. An
// incomplete frame at the end of the last file (a write the crash cut
// short, never acknowledged) is left out and named in torn. Anything else
// wrong is ErrCorrupt naming the file: the log is damaged or was edited,
// and no record may be dropped or rewritten silently.
func (s *Store) loadWAL() (*walState, error) {
	segs, err := listWAL(s.path)
	if err != nil {
		return nil, err
	}
	st := &walState{segs: segs, hash: s.headHash, time: s.headTime}
	v := &verifier{expect: s.headSeq + 1, prevHash: s.headHash, lastTime: s.headTime}
	var next uint64 // the seq the WAL holds next, once a file was read
	for i, seg := range segs {
		if err := s.loadSeg(st, v, seg, i == len(segs)-1, &next); err != nil {
			return nil, fmt.Errorf("%w: write-ahead log %s: %w", ErrCorrupt, seg.path, err)
		}
	}
	st.hash, st.time = v.prevHash, v.lastTime
	return st, nil
}

// loadSeg reads one WAL file into st.
func (s *Store) loadSeg(st *walState, v *verifier, seg walSeg, last bool, next *uint64) error {
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return err
	}
	first, prev, ok := parseWALHeader(data)
	switch {
	case !ok && last && len(bytes.TrimRight(data, "\x00")) < walHeaderSize:
		// Created (or a spare renamed) and the crash came before its
		// header was durable: it holds no record.
		st.torn = fmt.Sprintf("%s (header cut short)", seg.path)
		return nil
	case !ok:
		return errors.New("not a write-ahead log file (bad header)")
	case first != seg.first:
		return fmt.Errorf("header names record #%d, its name #%d", first, seg.first)
	case *next != 0 && first != *next:
		return fmt.Errorf("starts at record #%d, but the file before it ends at #%d (records missing)", first, *next-1)
	}
	if err := s.checkLink(v, first, prev); err != nil {
		return err
	}
	frames, off, err := readFrames(data)
	if errors.Is(err, errTorn) && last {
		st.torn = fmt.Sprintf("%s at offset %d", seg.path, off)
	} else if errors.Is(err, errTorn) {
		return fmt.Errorf("%w at offset %d, but later files follow", err, off)
	} else if err != nil {
		return err
	}
	*next = first
	for _, f := range frames {
		if f.first != *next {
			return fmt.Errorf("frame at offset %d starts at record #%d, expected #%d (records missing)", f.off, f.first, *next)
		}
		for _, val := range f.recs {
			if err := s.checkWALRecord(st, v, *next, val); err != nil {
				return fmt.Errorf("frame at offset %d: %w", f.off, err)
			}
			*next++
		}
	}
	return nil
}

// checkLink checks that a WAL file starting at record first after a
// record with hash prev continues this log.
func (s *Store) checkLink(v *verifier, first uint64, prev [32]byte) error {
	switch {
	case first > v.expect:
		return fmt.Errorf("starts at record #%d, but the log ends at #%d (records missing)", first, v.expect-1)
	case first == v.expect:
		if prev != v.prevHash {
			return fmt.Errorf("does not continue this log: it follows a record #%d with another hash (a write-ahead log of another audit log?)", first-1)
		}
		return nil
	}
	h, err := s.dbHash(first - 1)
	if err != nil {
		return err
	}
	if h != prev {
		return fmt.Errorf("does not continue this log: it follows a record #%d with another hash (a write-ahead log of another audit log?)", first-1)
	}
	return nil
}

// checkWALRecord checks record seq of the WAL: one the database holds
// must be the same record; a newer one must pass Verify's checks.
func (s *Store) checkWALRecord(st *walState, v *verifier, seq uint64, val []byte) error {
	if seq < v.expect {
		h, err := s.dbHash(seq)
		if err != nil {
			return err
		}
		raw, ok := scanStored(val)
		want := fmt.Appendf(nil, "%x", h[:])
		if !ok || raw.seq != seq || !bytes.Equal(raw.hashHex(), want) {
			return fmt.Errorf("record #%d differs from the database's (a write-ahead log of another audit log, or edited)", seq)
		}
		return nil
	}
	if !v.check(seqKey(seq), val) {
		return errors.New(v.problem)
	}
	st.recs = append(st.recs, walRec{seq: seq, stored: val, hash: v.prevHash})
	return nil
}

// dbHash returns the hash of record seq in the database (zeros for 0).
func (s *Store) dbHash(seq uint64) ([32]byte, error) {
	var h [32]byte
	if seq == 0 {
		return h, nil
	}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return fmt.Errorf("record #%d is not in the database", seq)
		}
		raw, ok := scanStored(b.Get(seqKey(seq)))
		if !ok {
			return fmt.Errorf("record #%d of the database is unreadable; run the offline audit verify", seq)
		}
		var good bool
		h, good = parseHash(string(raw.hashHex()))
		if !good {
			return fmt.Errorf("record #%d of the database has a malformed hash", seq)
		}
		return nil
	})
	return h, err
}

// replayWAL commits the WAL's records that the database lacks, then
// removes the WAL files: a writable Open, before the writer starts.
func (s *Store) replayWAL(st *walState) error {
	if st.torn != "" {
		s.log.Warn("audit write-ahead log ends in an incomplete write, never acknowledged; discarded", "file", st.torn)
	}
	for recs := st.recs; len(recs) > 0; {
		n := min(len(recs), applyMax)
		if err := s.applyBolt(recs[:n]); err != nil {
			return fmt.Errorf("write-ahead log: replaying records #%d to #%d: %w", recs[0].seq, recs[n-1].seq, err)
		}
		recs = recs[n:]
	}
	if n := len(st.recs); n > 0 {
		s.log.Info("audit records replayed from the write-ahead log", "records", n, "from", st.recs[0].seq, "to", st.recs[n-1].seq)
		s.headSeq, s.headHash, s.headTime = st.recs[n-1].seq, st.hash, st.time
	}
	return s.removeSegs(st.segs)
}

// removeSegs deletes WAL files the database covers, oldest first, and
// makes the removal durable.
func (s *Store) removeSegs(segs []walSeg) error {
	if len(segs) == 0 {
		return nil
	}
	for _, seg := range segs {
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("write-ahead log: %w", err)
		}
	}
	return s.syncDir(s.dir)
}
