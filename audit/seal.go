package audit

import (
	"context"
	"fmt"
)

// AppendFinal stores r as the last record the store will ever take and
// closes it for writes: every Append that starts after AppendFinal has
// begun fails with ErrSealed, and records already queued are committed
// before r. When it returns without error, Head names r, and it stays the
// head until the file is reopened. The gateway writes its gateway.stop
// record with it, so the head it logs at shutdown is the file's last record.
//
// If r cannot be stored the store is still sealed (nothing else gets in)
// and the error says why; Close as usual.
func (s *Store) AppendFinal(ctx context.Context, r Record) (Record, error) {
	if s.readOnly {
		return Record{}, ErrReadOnly
	}
	if err := checkRecord(ctx, &r); err != nil {
		return Record{}, err
	}
	req := &appendReq{rec: r, done: make(chan appendResult, 1)}
	s.sendMu.Lock()
	switch {
	case s.closed:
		s.sendMu.Unlock()
		return Record{}, ErrClosed
	case s.sealed:
		s.sendMu.Unlock()
		return Record{}, ErrSealed
	}
	s.sealed = true
	// Holding the lock keeps every later Append out; the writer drains the
	// queue without it, so there is room soon.
	var err error
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		err = fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
	}
	s.sendMu.Unlock()
	if err != nil {
		return Record{}, err
	}
	res := <-req.done // never abandoned: the writer answers every taken request
	return res.rec, res.err
}

// Sealed reports whether AppendFinal has closed the store for writes.
func (s *Store) Sealed() bool {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	return s.sealed
}
