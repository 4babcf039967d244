package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Request states: the writer takes a pending request, or the caller abandons
// it (context ended) before the writer got to it.
const (
	reqPending int32 = iota
	reqTaken
	reqAbandoned
)

type appendReq struct {
	rec   Record
	state atomic.Int32
	done  chan appendResult // buffered: the writer never blocks on it
}

type appendResult struct {
	rec Record
	err error
}

// Append stores r and returns it as stored, after the commit that holds it
// is durable (fsync). It escapes every string field (Sanitize), bounds Fields
// to MaxFields entries, and assigns Seq (1, 2, 3, ... without gaps), Time,
// Prev and Hash, ignoring any values the caller put there. Time is always
// the gateway's clock (UTC) at commit, never earlier than the previous
// record's Time, so times are non-decreasing in Seq order; put an event's
// own time into Fields if it differs.
//
// An error means the record was NOT stored: the caller must refuse the
// action it was about to take (fail closed). Errors wrap ErrInvalidRecord
// (Code missing or not a dotted lower-case code, Data over MaxDataSize),
// ErrReadOnly, ErrClosed, ErrQueueFull, the context's error, or the cause of
// a failed commit. If ctx ends after the writer has taken the record, Append
// waits for that commit and reports its real result.
//
// Append is safe for many concurrent callers; their records are committed
// in batches (group commit), one transaction and fsync per batch.
func (s *Store) Append(ctx context.Context, r Record) (Record, error) {
	if s.readOnly {
		return Record{}, ErrReadOnly
	}
	if err := checkRecord(ctx, &r); err != nil {
		return Record{}, err
	}
	req := &appendReq{rec: r, done: make(chan appendResult, 1)}
	if err := s.enqueue(ctx, req); err != nil {
		return Record{}, err
	}
	select {
	case res := <-req.done:
		return res.rec, res.err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqPending, reqAbandoned) {
			return Record{}, fmt.Errorf("audit: append: %w", ctx.Err())
		}
		res := <-req.done // taken: its commit is under way
		return res.rec, res.err
	}
}

// Enqueue hands r to the writer and returns once it is queued, without
// waiting for its commit: the record is stored by the next group commit
// (normally within a few milliseconds), or not at all if that commit fails
// (then it is logged and counted in Stats.FailedRecords) or the process
// dies first. Use it only for records of actions already decided and
// harmless to lose with the process, such as reads; anything a caller must
// be able to rely on goes through Append. Errors are those of Append before
// the commit: an invalid record, a closed or sealed store, a full queue.
func (s *Store) Enqueue(ctx context.Context, r Record) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := checkRecord(ctx, &r); err != nil {
		return err
	}
	return s.enqueue(ctx, &appendReq{rec: r, done: make(chan appendResult, 1)})
}

// checkRecord refuses a record Append cannot store and puts the rest into
// stored form (escaped, without the fields the writer assigns).
func checkRecord(ctx context.Context, r *Record) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if !validCode(r.Code) {
		return fmt.Errorf("%w: code \"%s\" is not a dotted lower-case code", ErrInvalidRecord, Sanitize(r.Code))
	}
	if len(r.Data) > MaxDataSize {
		return fmt.Errorf("%w: data is %d bytes, more than %d", ErrInvalidRecord, len(r.Data), MaxDataSize)
	}
	sanitizeRecord(r)
	r.Seq, r.Time, r.Prev, r.Hash = 0, time.Time{}, "", ""
	return nil
}

// enqueue hands req to the writer, waiting for room while ctx allows.
func (s *Store) enqueue(ctx context.Context, req *appendReq) error {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.sealed:
		return ErrSealed
	}
	select {
	case s.reqs <- req:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if ctx.Done() == nil { // a context that never ends: bound the wait
		t := time.NewTimer(s.queueWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.reqs <- req:
		return nil
	case <-s.closing:
		return ErrClosed
	case <-timeout:
		return fmt.Errorf("%w for %v", ErrQueueFull, s.queueWait)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
	}
}

// writer is the single goroutine that makes appends durable. It takes
// everything queued (up to MaxBatch), chains it onto the head, writes it to
// the WAL with one fdatasync, answers every waiter and hands the records to
// the applier; it returns once Close has closed the queue and the queue is
// drained.
func (s *Store) writer() {
	defer close(s.writerDone)
	batch := make([]*appendReq, 0, s.maxBatch)
	var fw frameWriter
	for {
		req, ok := <-s.reqs
		if !ok {
			return
		}
		// Wait for the applier before taking anything, so that a caller
		// whose context ends meanwhile can still abandon its record.
		lagErr := s.waitLag()
		batch = append(batch[:0], req)
	fill:
		for len(batch) < s.maxBatch {
			select {
			case req, ok := <-s.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.commit(batch, lagErr, &fw)
		clear(batch) // drop references for the garbage collector
	}
}

// commit makes the batch's live requests durable in the WAL, in groups of
// at most walFramePayload bytes (one frame, one write and one fdatasync
// each), and answers them. Any failure refuses the rest and fails the
// store (fail closed).
func (s *Store) commit(batch []*appendReq, err error, fw *frameWriter) {
	live := make([]*appendReq, 0, len(batch))
	for _, req := range batch {
		if req.state.CompareAndSwap(reqPending, reqTaken) {
			live = append(live, req)
		}
	}
	for len(live) > 0 {
		if err == nil {
			err = s.failure()
		}
		if err != nil {
			s.refuse(live, err)
			return
		}
		recs, items, size := s.chain(live, fw)
		group := live[:len(recs)]
		live = live[len(recs):]
		if err = s.walAppend(fw.bytes()); err != nil {
			s.fail(err)
			s.refuse(group, err)
			continue // the rest is refused too
		}
		s.acknowledge(group, recs, items, size)
	}
	// Let the callers just answered run before the next batch is taken:
	// busy callers append again at once, and their records then join the
	// next commit instead of waiting for the one after it.
	runtime.Gosched()
}

// refuse answers reqs with err: not stored.
func (s *Store) refuse(reqs []*appendReq, err error) {
	s.stats.failedCommits.Add(1)
	s.stats.failedRecords.Add(uint64(len(reqs)))
	err = fmt.Errorf("audit: record not stored: %w", err)
	for _, req := range reqs {
		req.done <- appendResult{err: err}
	}
}

// acknowledge moves the head past a group made durable, hands it to the
// applier and answers its callers.
func (s *Store) acknowledge(group []*appendReq, recs []Record, items []walRec, size int) {
	last := recs[len(recs)-1]
	s.headMu.Lock()
	s.headSeq, s.headHash = last.Seq, items[len(items)-1].hash
	s.headMu.Unlock()
	s.headTime = last.Time
	s.queueApply(items, size)
	s.stats.commits.Add(1)
	s.stats.appended.Add(uint64(len(group)))
	if n := int64(len(group)); n > s.stats.largestBatch.Load() {
		s.stats.largestBatch.Store(n) // only the writer stores
	}
	for i, req := range group {
		req.done <- appendResult{rec: recs[i]}
	}
	if err := s.rotateWAL(); err != nil {
		s.fail(err) // the records above are durable; the next ones are refused
	}
}

// chain assigns sequence numbers, time and hashes after the in-memory head
// to a prefix of reqs of about walFramePayload bytes (at least one) and
// builds their WAL frame in fw. It returns the records for the callers,
// their stored forms for the applier and those forms' total size. The head
// itself moves only once the frame is durable.
func (s *Store) chain(reqs []*appendReq, fw *frameWriter) ([]Record, []walRec, int) {
	t := s.now().UTC()
	if t.Before(s.headTime) {
		t = s.headTime
	}
	fw.reset()
	recs := make([]Record, 0, len(reqs))
	items := make([]walRec, 0, len(reqs))
	size := 0
	seq, prev := s.headSeq, s.headHash
	for _, req := range reqs {
		if size >= walFramePayload {
			break
		}
		r := req.rec
		seq++
		r.Seq, r.Time, r.Prev = seq, t, hex.EncodeToString(prev[:])
		canonical, sum := hashRecord(&r, prev)
		r.Hash = hex.EncodeToString(sum[:])
		stored := storedForm(canonical, r.Hash)
		fw.add(seq, stored)
		prev = sum
		recs, items = append(recs, r), append(items, walRec{seq: seq, stored: stored, hash: sum})
		size += len(stored)
	}
	return recs, items, size
}

// dropBeyond deletes records after seq, with their index entries. There
// are none unless an earlier commit reported failure after its data reached
// the file; the in-memory head is authoritative and those records were
// refused to their callers.
func dropBeyond(b *bolt.Bucket, ib *idxBuckets, seq uint64) error {
	c := b.Cursor()
	k, _ := c.Last()
	if last, ok := keySeq(k); k == nil || (ok && last <= seq) {
		return nil
	}
	var stale [][]byte
	for k, _ := c.Seek(seqKey(seq + 1)); k != nil; k, _ = c.Next() {
		if _, ok := keySeq(k); ok {
			stale = append(stale, bytes.Clone(k))
		}
	}
	for _, k := range stale {
		if ib != nil {
			if vals, ok := indexValues(b.Get(k)); ok {
				s, _ := keySeq(k)
				for i, v := range vals {
					if v == nil {
						continue
					}
					if err := ib[i].Delete(idxKey(nil, v, s)); err != nil {
						return fmt.Errorf("drop stale index entry of #%d: %w", s, err)
					}
				}
			}
		}
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("drop stale record key %x: %w", k, err)
		}
	}
	return nil
}
