package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The applier: records acknowledged through the WAL are committed to bbolt
// by one goroutine, in transactions of up to applyMax records, with bbolt's
// normal durability (data pages, then meta page). The writer waits (the
// lag bound) when the applier is more than Options.MaxLag records or
// maxLagBytes behind; readers wait for it to reach what was acknowledged
// before they began (settle).

// applyMax is the most records per bbolt transaction of the applier.
const applyMax = 8192

// applyMin and applyDelay: the applier waits up to applyDelay for
// applyMin records before a commit (see gather).
const (
	applyMin   = 2048
	applyDelay = 20 * time.Millisecond
)

// maxLagBytes bounds the stored bytes acknowledged and not yet in bbolt
// (the memory the applier's queue may hold).
const maxLagBytes = 64 << 20

// DefaultMaxLag is the default Options.MaxLag.
const DefaultMaxLag = 16384

// ErrFailed is returned by every append, and by reads that must wait for
// the database, after a write to the WAL or a commit to the database
// failed: the store takes no more records until it is reopened (which
// replays what the WAL holds). It wraps the first failure's cause.
var ErrFailed = errors.New("audit: the log failed earlier and takes no more records (restart the gateway)")

// applyState is the applier's shared state, guarded by mu.
type applyState struct {
	pending  []walRec // acknowledged, not yet taken by the applier
	lagRecs  int      // acknowledged and not yet committed to bbolt
	lagBytes int
	applied  uint64        // last record committed to bbolt
	changed  chan struct{} // closed and replaced when applied moves or the store fails
	failed   error
	kick     chan struct{} // cap 1: pending has records
	hurry    chan struct{} // cap 1: a reader waits for the database
	done     chan struct{} // closed when the applier returns
}

// failure returns the store's failure, wrapped as ErrFailed, or nil.
func (s *Store) failure() error {
	s.apMu.Lock()
	defer s.apMu.Unlock()
	if s.ap.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.ap.failed)
	}
	return nil
}

// fail puts the store in the failed state (the first cause is kept).
func (s *Store) fail(err error) {
	s.apMu.Lock()
	first := s.ap.failed == nil
	if first {
		s.ap.failed = err
		close(s.ap.changed)
		s.ap.changed = make(chan struct{})
	}
	s.apMu.Unlock()
	if first {
		s.disk.markStale() // a full disk is the likeliest cause
		s.log.Error("audit log failed; every later append is refused until restart", "err", err)
	}
}

// queueApply hands acknowledged records to the applier.
func (s *Store) queueApply(recs []walRec, size int) {
	s.apMu.Lock()
	s.ap.pending = append(s.ap.pending, recs...)
	s.ap.lagRecs += len(recs)
	s.ap.lagBytes += size
	s.apMu.Unlock()
	select {
	case s.ap.kick <- struct{}{}:
	default:
	}
}

// waitLag blocks the writer while the applier is too far behind, until it
// catches up or the store fails.
func (s *Store) waitLag() error {
	for {
		s.apMu.Lock()
		ok := s.ap.lagRecs < s.maxLag && s.ap.lagBytes < maxLagBytes
		ch, failed := s.ap.changed, s.ap.failed
		s.apMu.Unlock()
		if failed != nil {
			return fmt.Errorf("%w: %w", ErrFailed, failed)
		}
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-s.ap.done:
			return s.failure()
		}
	}
}

// settle waits until the database holds every record acknowledged before
// it was called, so that a read sees them (read-your-writes). It fails
// when the applier stopped short of them (its commit failed, or Close).
func (s *Store) settle(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	s.headMu.Lock()
	target := s.headSeq
	s.headMu.Unlock()
	for {
		s.apMu.Lock()
		applied, ch := s.ap.applied, s.ap.changed
		s.apMu.Unlock()
		if applied >= target {
			return nil
		}
		select {
		case s.ap.hurry <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-s.ap.done:
			if s.appliedSeq() >= target {
				return nil
			}
			if err := s.failure(); err != nil {
				return err
			}
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("audit: waiting for the database: %w", ctx.Err())
		}
	}
}

// appliedSeq is the last record committed to bbolt.
func (s *Store) appliedSeq() uint64 {
	s.apMu.Lock()
	defer s.apMu.Unlock()
	return s.ap.applied
}

// applier commits acknowledged records to bbolt until the writer has
// stopped and nothing is pending, or a commit fails.
func (s *Store) applier() {
	defer close(s.ap.done)
	var batch []walRec
	for {
		s.gather()
		s.apMu.Lock()
		n := min(len(s.ap.pending), applyMax)
		batch = append(batch[:0], s.ap.pending[:n]...)
		s.ap.pending = s.ap.pending[n:]
		if len(s.ap.pending) == 0 {
			s.ap.pending = nil // let the garbage collector take the array
		}
		s.apMu.Unlock()
		if len(batch) == 0 {
			select {
			case <-s.ap.kick:
				continue
			case <-s.writerDone:
				select {
				case <-s.ap.kick:
					continue // the writer's last records
				default:
					return
				}
			}
		}
		if err := s.applyBolt(batch); err != nil {
			s.fail(fmt.Errorf("commit to %s: %w", s.path, err))
			return
		}
		size := 0
		for _, r := range batch {
			size += len(r.stored)
		}
		last := batch[len(batch)-1].seq
		clear(batch)
		s.stats.applies.Add(1)
		s.dropCovered(last)
		s.apMu.Lock()
		s.ap.applied = last
		s.ap.lagRecs -= n
		s.ap.lagBytes -= size
		close(s.ap.changed)
		s.ap.changed = make(chan struct{})
		s.apMu.Unlock()
	}
}

// gather lets records accumulate for up to applyDelay while fewer than
// applyMin are pending, so that the database's two fsyncs come seldom
// and take many records, leaving the disk to the WAL's. A reader waiting
// for the database (settle), Close, or the lag bound cut it short.
func (s *Store) gather() {
	s.apMu.Lock()
	n, lag := len(s.ap.pending), s.ap.lagRecs
	s.apMu.Unlock()
	if n == 0 || n >= applyMin || lag >= s.maxLag/2 {
		return
	}
	t := time.NewTimer(applyDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ap.hurry:
	case <-s.writerDone:
	}
}

// applyBolt commits recs (consecutive, after the database's last record)
// in one bbolt transaction with their index entries and the chain head.
func (s *Store) applyBolt(recs []walRec) error {
	last := recs[len(recs)-1]
	return protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			b, meta := tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)
			if b == nil || meta == nil {
				return fmt.Errorf("%w: buckets missing", ErrCorrupt)
			}
			b.FillPercent = 0.95 // keys only ever grow: pack pages
			ib := openIdx(tx, true)
			if err := dropBeyond(b, ib, recs[0].seq-1); err != nil {
				return err
			}
			var key []byte
			for _, r := range recs {
				if err := b.Put(seqKey(r.seq), r.stored); err != nil {
					return fmt.Errorf("put record #%d: %w", r.seq, err)
				}
				if ib != nil {
					if err := ib.add(r.seq, r.stored, key); err != nil {
						return err
					}
				}
			}
			if err := meta.Put(keyHead, encodeHead(last.seq, last.hash)); err != nil {
				return fmt.Errorf("put chain head: %w", err)
			}
			if s.beforeCommit != nil {
				return s.beforeCommit(tx)
			}
			return nil
		})
	})
}
