package audit

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"

	bolt "go.etcd.io/bbolt"
)

// Verify's check of the indexes.
//
// A full verification adds up, for every index and every block of
// idxBlock sequence numbers, a keyed hash (maphash, random seed) of each
// entry the records call for; then it walks the index buckets and adds up
// the entries it finds with a sequence number up to the head. The two sums
// differ where an entry is missing, extra or altered, and the first block
// that differs is reported. An incremental verification looks up the
// entries of the records it checks instead, so its cost follows what is new
// (it does not see an entry added or removed for an older record; a full
// verification does).

// idxBlock is the number of sequence numbers per sum (a variable for
// tests).
var idxBlock uint64 = 4096

// idxScanChunk is the number of index keys read per transaction.
const idxScanChunk = 65536

// Index checking modes of a verifier.
const (
	idxNone  = iota // the log has no complete indexes: not checked
	idxSums         // full verification: block sums
	idxProbe        // incremental: look up each record's entries
)

// idxCheck is a verifier's index state.
type idxCheck struct {
	mode int
	seed maphash.Seed
	want [numIdx][]uint64 // per index, per block: sum of expected entries
	ib   *idxBuckets      // the current transaction's buckets (idxProbe)
	key  []byte
}

// startIndexCheck chooses the mode: sums for a walk from the first record,
// probes otherwise, nothing when the log has no complete indexes.
func (v *verifier) startIndexCheck(tx *bolt.Tx) {
	if openIdx(tx, false) == nil {
		v.idx.mode = idxNone
		return
	}
	v.idx.mode = idxProbe
	if v.expect == 1 {
		v.idx.mode, v.idx.seed = idxSums, maphash.MakeSeed()
	}
}

// noteIndex accounts for the entries good record seq calls for; false (with
// the walk failed) when a probed entry is missing.
func (v *verifier) noteIndex(seq uint64, val []byte) bool {
	c := &v.idx
	if c.mode == idxNone {
		return true
	}
	vals, ok := indexValues(val)
	if !ok {
		return true
	}
	for i, val := range vals {
		if val == nil {
			continue
		}
		c.key = idxKey(c.key[:0], val, seq)
		switch c.mode {
		case idxSums:
			blk := int(seq / idxBlock)
			for len(c.want[i]) <= blk {
				c.want[i] = append(c.want[i], 0)
			}
			c.want[i][blk] += maphash.Bytes(c.seed, c.key)
		case idxProbe:
			// No complete indexes in this transaction: a rebuild began
			// meanwhile, and is not a problem of this record.
			if c.ib != nil && c.ib[i].Get(c.key) == nil {
				return v.fail(seq, "record #%d is missing from the %s index; rebuild the indexes with bmcgate audit reindex", seq, idxKinds[i].name)
			}
		}
	}
	return true
}

// checkIndexSums walks the index buckets after a good full walk and
// compares them with the sums the records called for.
func (s *Store) checkIndexSums(ctx context.Context, v *verifier) error {
	head := v.expect - 1
	var got [numIdx][]uint64
	for i := range got {
		got[i] = make([]uint64, len(v.idx.want[i]))
	}
	for i, k := range idxKinds {
		var resume []byte
		for done := false; !done; {
			if err := checkCtx(ctx); err != nil {
				return err
			}
			err := s.view(func(tx *bolt.Tx) error {
				ib := openIdx(tx, false)
				if ib == nil {
					v.skipNote = joinNote(v.skipNote, "the indexes were being rebuilt; not checked")
					v.idx.mode, done = idxNone, true
					return nil
				}
				c := ib[i].Cursor()
				var key []byte
				if resume == nil {
					key, _ = c.First()
				} else if key, _ = c.Seek(resume); bytes.Equal(key, resume) {
					key, _ = c.Next()
				}
				for n := 0; ; n++ {
					if key == nil {
						done = true
						return nil
					}
					if n == idxScanChunk {
						return nil
					}
					_, seq, ok := splitIdxKey(key)
					if !ok {
						v.fail(head, "the %s index holds a malformed key (%s); rebuild the indexes with bmcgate audit reindex", k.name, shortHex(key))
						done = true
						return nil
					}
					if seq <= head {
						blk := int(seq / idxBlock)
						if blk >= len(got[i]) {
							got[i] = append(got[i], make([]uint64, blk+1-len(got[i]))...)
						}
						got[i][blk] += maphash.Bytes(v.idx.seed, key)
					}
					resume = append(resume[:0], key...)
					key, _ = c.Next()
				}
			})
			if err != nil {
				return fmt.Errorf("audit: verify: %w", err)
			}
		}
		if v.done && v.firstBad != 0 || v.idx.mode == idxNone {
			return nil
		}
	}
	for blk := 0; ; blk++ {
		more := false
		for i, k := range idxKinds {
			w, g := at(v.idx.want[i], blk), at(got[i], blk)
			more = more || blk < len(v.idx.want[i]) || blk < len(got[i])
			if w != g {
				lo, hi := max(uint64(blk)*idxBlock, 1), min(uint64(blk+1)*idxBlock-1, head)
				v.fail(lo, "the %s index disagrees with records #%d to #%d (entries missing, added or altered); rebuild the indexes with bmcgate audit reindex",
					k.name, lo, max(lo, hi))
				return nil
			}
		}
		if !more {
			return nil
		}
	}
}

func at(s []uint64, i int) uint64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
