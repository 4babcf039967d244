package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Secondary indexes.
//
// Bucket "index" holds one nested bucket per indexed field (see idxKinds).
// Each record with a non-empty value in that field has one key there:
//
//	value || 0x00 || Seq (8 bytes big-endian)
//
// with an empty value, where value is the field's content in the canonical
// form (the JSON string without its quotes). Canonical strings never hold a
// 0x00 byte (a NUL is written \u0000, and stored strings are sanitized
// anyway), so the keys of one value form one contiguous range ordered by
// Seq, which Search seeks through.
//
// The entries of a record are written by the transaction that writes the
// record, so the chain and the indexes cannot disagree; meta "index" =
// idxVersion says that they cover every record. A log written before the
// indexes existed is indexed when it is first opened for writing (a
// gateway start or "bmcgate audit reindex"); until then, and in a
// read-only store of such a log, Search scans. Options.Reindex drops and
// rebuilds them. Verify compares them with the records.

var (
	bucketIndex = []byte("index")
	keyIndex    = []byte("index") // meta: idxVersion once the indexes cover every record
)

// idxVersion names the index layout.
const idxVersion = "bmcgate-audit-index/1"

// idxKinds are the indexed fields: the nested bucket's name and the field.
var idxKinds = [...]struct {
	name  string
	field int
}{
	{"actor", strActor},
	{"target", strTarget},
	{"action", strAction},
	{"session", strSession},
	{"code", strCode},
}

const numIdx = len(idxKinds)

// reindexChunk is the number of records indexed per transaction by a
// rebuild (a variable for tests).
var reindexChunk uint64 = 20000

// idxKey appends the index key of (value, seq) to dst.
func idxKey(dst, value []byte, seq uint64) []byte {
	dst = append(dst, value...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// splitIdxKey returns the value and seq of an index key.
func splitIdxKey(k []byte) (value []byte, seq uint64, ok bool) {
	if len(k) < 9 || k[len(k)-9] != 0 {
		return nil, 0, false
	}
	return k[:len(k)-9], binary.BigEndian.Uint64(k[len(k)-8:]), true
}

// indexValues returns the encoded values of the indexed fields of a stored
// record (nil for an empty field), or false when it cannot be decoded.
func indexValues(val []byte) (out [numIdx][]byte, ok bool) {
	if raw, ok := scanStored(val); ok {
		for i, k := range idxKinds {
			if f := raw.field(k.field); len(f) > 0 {
				out[i] = f
			}
		}
		return out, true
	}
	r, err := decodeStored(val)
	if err != nil {
		return out, false
	}
	fields := [numStr]string{strCode: r.Code, strActor: r.Actor, strSession: r.Session, strTarget: r.Target, strAction: r.Action}
	for i, k := range idxKinds {
		if f := fields[k.field]; f != "" {
			enc := appendJSONString(nil, f)
			out[i] = enc[1 : len(enc)-1]
		}
	}
	return out, true
}

// idxBuckets are the nested index buckets of one transaction.
type idxBuckets [numIdx]*bolt.Bucket

// openIdx returns the index buckets of tx, nil when the log has none (or
// they are incomplete, unless partial).
func openIdx(tx *bolt.Tx, partial bool) *idxBuckets {
	root := tx.Bucket(bucketIndex)
	if root == nil {
		return nil
	}
	if !partial {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || string(meta.Get(keyIndex)) != idxVersion {
			return nil
		}
	}
	var ib idxBuckets
	for i, k := range idxKinds {
		if ib[i] = root.Bucket([]byte(k.name)); ib[i] == nil {
			return nil
		}
	}
	return &ib
}

// add writes the index entries of the stored record seq.
func (ib *idxBuckets) add(seq uint64, val []byte, key []byte) error {
	vals, ok := indexValues(val)
	if !ok {
		return nil // an undecodable record has no entries; Verify reports it
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		key = idxKey(key[:0], v, seq)
		if err := ib[i].Put(key, nil); err != nil {
			return fmt.Errorf("index #%d: %w", seq, err)
		}
	}
	return nil
}

// ensureIndexed builds the indexes of a writable store when they do not
// cover every record (a log written before they existed, or a rebuild that
// was interrupted), or always when rebuild is set. It runs before the
// writer starts.
func (s *Store) ensureIndexed(ctx context.Context, rebuild bool) error {
	var complete bool
	err := s.view(func(tx *bolt.Tx) error {
		complete = openIdx(tx, false) != nil
		return nil
	})
	if err != nil || (complete && !rebuild) {
		return err
	}
	if s.headSeq > 0 {
		s.log.Info("building the audit log's search indexes", "records", s.headSeq)
	}
	return s.reindex(ctx)
}

// reindex drops the indexes and builds them from the records, in
// transactions of reindexChunk records. Records committed meanwhile are
// indexed by their own transactions; meta "index" is set at the end.
func (s *Store) reindex(ctx context.Context) error {
	var last uint64
	err := protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return fmt.Errorf("%w: meta bucket missing", ErrCorrupt)
			}
			if err := meta.Delete(keyIndex); err != nil {
				return err
			}
			if tx.Bucket(bucketIndex) != nil {
				if err := tx.DeleteBucket(bucketIndex); err != nil {
					return fmt.Errorf("drop indexes: %w", err)
				}
			}
			root, err := tx.CreateBucket(bucketIndex)
			if err != nil {
				return fmt.Errorf("create indexes: %w", err)
			}
			for _, k := range idxKinds {
				if _, err := root.CreateBucket([]byte(k.name)); err != nil {
					return fmt.Errorf("create index %s: %w", k.name, err)
				}
			}
			if recs := tx.Bucket(bucketRecords); recs != nil {
				last, _ = lastSeq(recs.Cursor())
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("audit: reindex: %w", err)
	}
	for lo := uint64(1); lo <= last; lo += reindexChunk {
		if err := checkCtx(ctx); err != nil {
			return err
		}
		hi := min(last, lo+reindexChunk-1)
		err := protect(func() error {
			return s.db.Update(func(tx *bolt.Tx) error {
				ib, recs := openIdx(tx, true), tx.Bucket(bucketRecords)
				if ib == nil || recs == nil {
					return fmt.Errorf("%w: buckets missing", ErrCorrupt)
				}
				// Each index's keys of the chunk are put in key order, so
				// that they fill leaves in sequence instead of touching one
				// leaf per key.
				var keys [numIdx][][]byte
				c := recs.Cursor()
				for k, v := c.Seek(seqKey(lo)); k != nil; k, v = c.Next() {
					seq, ok := keySeq(k)
					if !ok || seq > hi {
						break
					}
					if v == nil {
						continue
					}
					vals, ok := indexValues(v)
					if !ok {
						continue // an undecodable record has no entries; Verify reports it
					}
					for i, val := range vals {
						if val != nil {
							keys[i] = append(keys[i], idxKey(nil, val, seq))
						}
					}
				}
				for i := range keys {
					slices.SortFunc(keys[i], bytes.Compare)
					ib[i].FillPercent = 0.9 // later entries of a value go to the end of its range
					for _, k := range keys[i] {
						if err := ib[i].Put(k, nil); err != nil {
							return fmt.Errorf("index %s: %w", idxKinds[i].name, err)
						}
					}
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("audit: reindex: %w", err)
		}
	}
	err = protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyIndex, []byte(idxVersion))
		})
	})
	if err != nil {
		return fmt.Errorf("audit: reindex: %w", err)
	}
	return nil
}

// posting is one index value's list of sequence numbers, read through a
// cursor.
type posting struct {
	c      *bolt.Cursor
	prefix []byte // value || 0x00
	key    []byte // scratch
}

func newPosting(b *bolt.Bucket, value []byte) *posting {
	p := append(bytes.Clone(value), 0)
	return &posting{c: b.Cursor(), prefix: p, key: make([]byte, 0, len(p)+8)}
}

// seq decodes k if it belongs to this posting list.
func (p *posting) seq(k []byte) (uint64, bool) {
	if len(k) != len(p.prefix)+8 || !bytes.HasPrefix(k, p.prefix) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(p.prefix):]), true
}

// atOrAfter returns the smallest listed seq >= x.
func (p *posting) atOrAfter(x uint64) (uint64, bool) {
	p.key = binary.BigEndian.AppendUint64(append(p.key[:0], p.prefix...), x)
	k, _ := p.c.Seek(p.key)
	return p.seq(k)
}

// atOrBefore returns the largest listed seq <= x.
func (p *posting) atOrBefore(x uint64) (uint64, bool) {
	p.key = binary.BigEndian.AppendUint64(append(p.key[:0], p.prefix...), x)
	k, _ := p.c.Seek(p.key)
	if k == nil {
		k, _ = p.c.Last()
	} else if got, ok := p.seq(k); !ok || got > x {
		k, _ = p.c.Prev()
	}
	return p.seq(k)
}

// leapfrog returns the first seq from x onwards (downwards when newest)
// that every list holds, or false when there is none within [lo, hi).
func leapfrog(ps []*posting, x, lo, hi uint64, newest bool) (uint64, bool) {
	for {
		if x < lo || x >= hi {
			return 0, false
		}
		agreed := true
		for _, p := range ps {
			var y uint64
			var ok bool
			if newest {
				y, ok = p.atOrBefore(x)
			} else {
				y, ok = p.atOrAfter(x)
			}
			if !ok {
				return 0, false
			}
			if y != x {
				x, agreed = y, false
				break
			}
		}
		if agreed {
			return x, true
		}
	}
}
