package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// keyVerified is the meta key of the verified checkpoint: Seq (8-byte
// big-endian) || Hash (32 raw bytes) of the last record a full or
// incremental verification found good.
var keyVerified = []byte("verified")

// VerifyIncremental verifies the log from its verified checkpoint: the
// record named by the checkpoint is re-hashed and must carry the
// checkpoint's hash, then every record after it is checked as Verify
// checks them, with the chain head. Without a checkpoint, or when the
// checkpointed record does not match it, the whole log is verified. On a
// writable store a good result moves the checkpoint to the head verified.
//
// A checkpoint can only let a verification skip records, never accept a
// bad chain after it: it names a record by its hash, and a checkpoint that
// does not re-hash to a record of the file is ignored. Its limit: someone
// able to rewrite the file can also move the checkpoint past the records
// they edited, so the records before the checkpoint are only as safe as
// the file; an anchor kept outside the host (the head the gateway logs, a
// signed checkpoint) covers that.
func (s *Store) VerifyIncremental(ctx context.Context) (VerifyReport, error) {
	v, err := s.fromCheckpoint()
	if err != nil {
		return VerifyReport{}, fmt.Errorf("audit: verify: %w", err)
	}
	rep, err := s.verifyFrom(ctx, v)
	if err != nil {
		return rep, err
	}
	if rep.OK && !s.readOnly {
		if err := s.saveCheckpoint(rep.HeadSeq, rep.HeadHash); err != nil {
			return rep, fmt.Errorf("audit: verify: save checkpoint: %w", err)
		}
	}
	return rep, nil
}

// Checkpoint returns the verified checkpoint stored in the file (seq 0 when
// there is none).
func (s *Store) Checkpoint() (seq uint64, hash string, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if sq, h, ok := decodeHead(meta.Get(keyVerified)); ok {
				seq, hash = sq, hex.EncodeToString(h[:])
			}
		}
		return nil
	})
	return seq, hash, err
}

// fromCheckpoint returns a verifier that starts after the stored checkpoint,
// or at the first record when there is no usable checkpoint.
func (s *Store) fromCheckpoint() (*verifier, error) {
	v := &verifier{expect: 1}
	err := s.view(func(tx *bolt.Tx) error {
		recs, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
		if recs == nil || meta == nil {
			return nil
		}
		seq, hash, ok := decodeHead(meta.Get(keyVerified))
		if !ok || seq == 0 {
			return nil
		}
		r, ok := rehash(recs.Get(seqKey(seq)), seq)
		if !ok || r.Hash != hex.EncodeToString(hash[:]) {
			v.skipNote = fmt.Sprintf("checkpoint #%d does not match its record; verified in full", seq)
			return nil
		}
		v.expect, v.prevHash, v.lastTime = seq+1, hash, r.Time
		return nil
	})
	if errors.Is(err, ErrCorrupt) {
		return &verifier{expect: 1}, nil // the full walk reports it
	}
	return v, err
}

// rehash decodes a stored record and checks it is in stored form, is #seq
// and matches its own hash.
func rehash(val []byte, seq uint64) (Record, bool) {
	if val == nil {
		return Record{}, false
	}
	r, err := decodeStored(val)
	if err != nil || r.Seq != seq || !bytes.Equal(encodeStored(&r), val) {
		return Record{}, false
	}
	if _, ok := parseHash(r.Hash); !ok {
		return Record{}, false
	}
	sum := chainHash(mustPrev(r.Prev), appendCanonical(nil, &r))
	return r, hex.EncodeToString(sum[:]) == r.Hash
}

// saveCheckpoint stores (seq, hash) as the verified checkpoint.
func (s *Store) saveCheckpoint(seq uint64, hash string) error {
	h, ok := parseHash(hash)
	if !ok || seq == 0 {
		return nil
	}
	if s.isClosing() {
		return ErrClosed
	}
	return protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return fmt.Errorf("%w: meta bucket missing", ErrCorrupt)
			}
			return meta.Put(keyVerified, encodeHead(seq, h))
		})
	})
}
