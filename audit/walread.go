package audit

import (
	"context"
	"fmt"
	"slices"
)

// A read-only store (the offline tools) cannot commit what only the WAL
// holds (records a gateway acknowledged and did not commit to the database
// before it stopped: a crash, a kill -9, a power loss). It keeps them in
// memory, checked at Open as a writable Open checks them, and Search, Get
// and Verify include them. The gateway commits them when it next starts.

// verifyTail checks the WAL-only records after a good walk of the
// database and says so in the report's note.
func (s *Store) verifyTail(v *verifier) {
	if len(s.tail) == 0 || v.expect != s.tail[0].seq {
		return
	}
	mode := v.idx.mode
	v.idx.mode, v.idx.ib = idxNone, nil // they have no index entries yet
	defer func() { v.idx.mode = mode }()
	for _, r := range s.tail {
		if !v.check(seqKey(r.seq), r.stored) {
			return
		}
	}
	v.skipNote = joinNote(v.skipNote, fmt.Sprintf("records #%d to #%d are only in the write-ahead log (%s*), checked; the gateway commits them to the database when it starts",
		s.tail[0].seq, s.tail[len(s.tail)-1].seq, walPrefix(s.path)))
}

// tailGet returns WAL-only record seq; ok is false when it is not one.
func (s *Store) tailGet(seq uint64) (Record, bool, error) {
	if len(s.tail) == 0 || seq < s.tail[0].seq || seq > s.tail[len(s.tail)-1].seq {
		return Record{}, false, nil
	}
	r, err := decodeStored(s.tail[seq-s.tail[0].seq].stored)
	if err != nil {
		return Record{}, true, fmt.Errorf("audit: get #%d: %w", seq, err)
	}
	return r, true, nil
}

// searchWithTail is SearchPage over the database and the WAL-only
// records after it: the database's matches, then the WAL's (the other way
// round for Newest), within one limit.
func (s *Store) searchWithTail(ctx context.Context, q Query, fn func(Record) error) (Page, error) {
	m, err := newMatcher(q)
	if err != nil {
		return Page{}, err
	}
	var tail []Record
	for _, tr := range s.tail {
		r, err := decodeStored(tr.stored)
		if err != nil {
			return Page{}, fmt.Errorf("audit: search: %w", err)
		}
		if m.match(&r) {
			tail = append(tail, r)
		}
	}
	if q.Newest {
		slices.Reverse(tail)
	}
	var page Page
	emit := func(rs []Record) error {
		for _, r := range rs {
			if err := checkCtx(ctx); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
			page.Records++
			page.Last = r.Seq
		}
		return nil
	}
	dbq := q
	dbq.Limit = m.limit
	if !q.Newest {
		dbp, err := s.searchDB(ctx, dbq, fn)
		page = dbp
		if err != nil || dbp.More {
			return page, err
		}
		left := m.limit - dbp.Records
		n := min(left, len(tail))
		err = emit(tail[:n])
		page.More = len(tail) > n
		return page, err
	}
	n := min(m.limit, len(tail))
	if err := emit(tail[:n]); err != nil {
		return page, err
	}
	if n < len(tail) {
		page.More = true
		return page, nil
	}
	dbq.Limit = m.limit - n
	if dbq.Limit == 0 {
		dbq.Limit = 1
		more, err := s.searchDB(ctx, dbq, func(Record) error { return nil })
		page.More = more.Records > 0
		return page, err
	}
	dbp, err := s.searchDB(ctx, dbq, fn)
	page.Records += dbp.Records
	if dbp.Records > 0 {
		page.Last = dbp.Last
	}
	page.More = dbp.More
	return page, err
}
