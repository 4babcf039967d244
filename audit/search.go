package audit

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Search limits.
const (
	DefaultSearchLimit = 1000
	MaxSearchLimit     = 100000
)

// searchChunk is the number of records scanned per read transaction.
const searchChunk = 1024

// Query selects records for Search. Zero fields do not filter. String
// filters compare with the stored (escaped) form of a field, which is what
// FormatText and WriteJSONLine show.
type Query struct {
	Actor, Target, Action, Outcome, Code, Session string // exact match; Target, Action and Code also accept globs (path.Match: "power.*", "console.*")
	Since, Until                                  time.Time
	AfterSeq                                      uint64 // only records with Seq > AfterSeq (a paging cursor)
	BeforeSeq                                     uint64 // only records with Seq < BeforeSeq, when not 0 (the cursor for Newest)
	Limit                                         int    // max results: 0 = DefaultSearchLimit, capped at MaxSearchLimit
	Newest                                        bool   // newest first
}

// Page says how a search ended.
type Page struct {
	Records int    // records passed to fn
	Last    uint64 // Seq of the last of them (0 when none)
	// More is true when the limit stopped the search and at least one more
	// record matches: continue with AfterSeq = Last (oldest first) or
	// BeforeSeq = Last (newest first).
	More bool
}

// Next returns the query for the page after p.
func (p Page) Next(q Query) Query {
	if q.Newest {
		q.BeforeSeq = p.Last
	} else {
		q.AfterSeq = p.Last
	}
	return q
}

// Search calls fn for each record matching q, oldest first (newest first
// with q.Newest), at most q.Limit times. Since is inclusive and Until
// exclusive. Records appended after Search starts are not included. If fn
// returns an error, Search stops and returns that error unchanged. fn runs
// outside any database transaction, so a slow consumer does not hold up
// appends.
func (s *Store) Search(ctx context.Context, q Query, fn func(Record) error) error {
	_, err := s.SearchPage(ctx, q, fn)
	return err
}

// SearchPage is Search, and says whether more records match beyond the
// limit, so that a caller can offer the next page.
func (s *Store) SearchPage(ctx context.Context, q Query, fn func(Record) error) (Page, error) {
	if len(s.tail) > 0 {
		return s.searchWithTail(ctx, q, fn)
	}
	return s.searchDB(ctx, q, fn)
}

// searchDB is SearchPage over the database's records.
func (s *Store) searchDB(ctx context.Context, q Query, fn func(Record) error) (Page, error) {
	var page Page
	m, err := newMatcher(q)
	if err != nil {
		return page, err
	}
	if err := s.settle(ctx); err != nil {
		return page, fmt.Errorf("audit: search: %w", err)
	}
	lo, hi, err := s.seqRange(q)
	if err != nil {
		return page, fmt.Errorf("audit: search: %w", err)
	}
	left := m.limit
	for lo < hi && left > 0 {
		if err := checkCtx(ctx); err != nil {
			return page, err
		}
		var batch []Record
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			batch, lo, hi, err = scanChunk(tx, m, lo, hi, left, q.Newest)
			return err
		})
		if err != nil {
			return page, fmt.Errorf("audit: search: %w", err)
		}
		for _, r := range batch {
			if err := checkCtx(ctx); err != nil {
				return page, err
			}
			if err := fn(r); err != nil {
				return page, err
			}
			left--
			page.Records++
			page.Last = r.Seq
		}
	}
	// The limit was reached: look for one more match.
	for lo < hi && !page.More {
		if err := checkCtx(ctx); err != nil {
			return page, err
		}
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			var more []Record
			more, lo, hi, err = scanChunk(tx, m, lo, hi, 1, q.Newest)
			page.More = len(more) > 0
			return err
		})
		if err != nil {
			return page, fmt.Errorf("audit: search: %w", err)
		}
	}
	return page, nil
}

// scanChunk finds up to want matches in [lo, hi) from the low end (or the
// high end when newest), examining at most searchChunk records, and returns
// them with the range left. With an exact filter on an indexed field, and
// indexes that cover the log, it walks the intersection of those fields'
// index entries (leapfrog); otherwise it scans the records. Either way a
// candidate is matched on its stored bytes and decoded only if it matches.
func scanChunk(tx *bolt.Tx, m *matcher, lo, hi uint64, want int, newest bool) ([]Record, uint64, uint64, error) {
	b := tx.Bucket(bucketRecords)
	if b == nil {
		return nil, hi, hi, nil
	}
	if ps := m.postings(tx); ps != nil {
		return indexChunk(b, ps, m, lo, hi, want, newest)
	}
	var out []Record
	c := b.Cursor()
	var k, v []byte
	if newest {
		k, v = seekAtOrBefore(c, hi-1)
	} else {
		k, v = c.Seek(seqKey(lo))
	}
	for n := 0; n < searchChunk && len(out) < want; n++ {
		seq, ok := keySeq(k)
		if k == nil || !ok || seq < lo || seq >= hi {
			return out, hi, hi, nil // done (a non-8-byte key ends the log for search)
		}
		r, match, err := m.check(seq, v)
		if err != nil {
			return nil, lo, hi, err
		}
		if match {
			out = append(out, r)
		}
		if newest {
			hi = seq
			k, v = c.Prev()
		} else {
			lo = seq + 1
			k, v = c.Next()
		}
	}
	return out, lo, hi, nil
}

// indexChunk is scanChunk's walk of the index entries ps.
func indexChunk(b *bolt.Bucket, ps []*posting, m *matcher, lo, hi uint64, want int, newest bool) ([]Record, uint64, uint64, error) {
	var out []Record
	x := lo
	if newest {
		x = hi - 1
	}
	for n := 0; n < searchChunk && len(out) < want; n++ {
		seq, ok := leapfrog(ps, x, lo, hi, newest)
		if !ok {
			return out, hi, hi, nil
		}
		if v := b.Get(seqKey(seq)); v != nil { // an entry without its record finds nothing; Verify reports it
			r, match, err := m.check(seq, v)
			if err != nil {
				return nil, lo, hi, err
			}
			if match {
				out = append(out, r)
			}
		}
		if newest {
			hi, x = seq, seq-1
		} else {
			lo, x = seq+1, seq+1
		}
	}
	return out, lo, hi, nil
}

// check matches the stored record seq against the query, on its stored
// bytes when it is in stored form, and decodes it if it matches.
func (m *matcher) check(seq uint64, v []byte) (Record, bool, error) {
	if raw, ok := scanStored(v); ok && raw.seq == seq {
		match, sure := m.matchRaw(&raw)
		if sure && !match {
			return Record{}, false, nil
		}
		if sure {
			r, err := decodeStored(v)
			if err != nil {
				return Record{}, false, fmt.Errorf("record #%d: %w", seq, err)
			}
			return r, true, nil
		}
	}
	r, err := decodeStored(v)
	if err != nil {
		return Record{}, false, fmt.Errorf("record #%d: %w", seq, err)
	}
	return r, m.match(&r), nil
}

// seekAtOrBefore positions c at the largest key <= seq.
func seekAtOrBefore(c *bolt.Cursor, seq uint64) ([]byte, []byte) {
	k, v := c.Seek(seqKey(seq))
	if k == nil {
		return c.Last()
	}
	if got, ok := keySeq(k); !ok || got > seq {
		return c.Prev()
	}
	return k, v
}

// seqRange narrows q to the sequence numbers [lo, hi) that can match, using
// binary search on time (times are non-decreasing in Seq order).
func (s *Store) seqRange(q Query) (lo, hi uint64, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return nil
		}
		last, ok := lastSeq(b.Cursor())
		if !ok {
			return nil
		}
		lo, hi = q.AfterSeq+1, last+1
		if q.BeforeSeq != 0 {
			hi = min(hi, q.BeforeSeq)
		}
		if !q.Since.IsZero() {
			n, err := firstAtOrAfter(b, q.Since, last)
			if err != nil {
				return err
			}
			lo = max(lo, n)
		}
		if !q.Until.IsZero() {
			n, err := firstAtOrAfter(b, q.Until, last)
			if err != nil {
				return err
			}
			hi = min(hi, n)
		}
		return nil
	})
	return lo, hi, err
}

// lastSeq returns the largest 8-byte key, skipping longer (corrupt) keys
// that sort after it.
func lastSeq(c *bolt.Cursor) (uint64, bool) {
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		if seq, ok := keySeq(k); ok {
			return seq, true
		}
	}
	return 0, false
}

// firstAtOrAfter returns the smallest seq in [1, last] whose record's time
// is not before t, or last+1.
func firstAtOrAfter(b *bolt.Bucket, t time.Time, last uint64) (uint64, error) {
	var ferr error
	c := b.Cursor()
	i := sort.Search(int(min(last, 1<<62)), func(i int) bool {
		k, v := c.Seek(seqKey(uint64(i) + 1))
		if _, ok := keySeq(k); !ok || ferr != nil {
			return true
		}
		if raw, ok := scanStored(v); ok {
			if rt, ok := raw.parseTime(); ok {
				return !rt.Before(t)
			}
		}
		r, err := decodeStored(v)
		if err != nil {
			ferr = err
			return true
		}
		return !r.Time.Before(t)
	})
	return uint64(i) + 1, ferr
}

// matcher applies a Query's filters to a record.
type matcher struct {
	q                             Query
	limit                         int
	targetGlob, actGlob, codeGlob bool
	// exact holds the canonical encoding (JSON string content) of each
	// exact string filter, nil where the field is not filtered exactly.
	exact [numStr][]byte
}

func newMatcher(q Query) (*matcher, error) {
	m := &matcher{q: q, limit: q.Limit}
	switch {
	case q.Limit < 0:
		return nil, fmt.Errorf("%w: negative limit", ErrInvalidQuery)
	case q.Limit == 0:
		m.limit = DefaultSearchLimit
	case q.Limit > MaxSearchLimit:
		m.limit = MaxSearchLimit
	}
	var err error
	if m.targetGlob, err = isGlob(q.Target); err != nil {
		return nil, fmt.Errorf("%w: target pattern: %w", ErrInvalidQuery, err)
	}
	if m.actGlob, err = isGlob(q.Action); err != nil {
		return nil, fmt.Errorf("%w: action pattern: %w", ErrInvalidQuery, err)
	}
	if m.codeGlob, err = isGlob(q.Code); err != nil {
		return nil, fmt.Errorf("%w: code pattern: %w", ErrInvalidQuery, err)
	}
	for _, f := range []struct {
		i    int
		want string
		glob bool
	}{
		{strActor, q.Actor, false}, {strOutcome, q.Outcome, false}, {strSession, q.Session, false},
		{strTarget, q.Target, m.targetGlob}, {strAction, q.Action, m.actGlob}, {strCode, q.Code, m.codeGlob},
	} {
		if f.want != "" && !f.glob {
			enc := appendJSONString(nil, f.want)
			m.exact[f.i] = enc[1 : len(enc)-1]
		}
	}
	return m, nil
}

// postings returns the index entries of the query's exact filters on
// indexed fields, or nil when there are none or the log has no complete
// indexes.
func (m *matcher) postings(tx *bolt.Tx) []*posting {
	var ps []*posting
	var ib *idxBuckets
	for i, k := range idxKinds {
		want := m.exact[k.field]
		if want == nil {
			continue
		}
		if ib == nil {
			if ib = openIdx(tx, false); ib == nil {
				return nil
			}
		}
		ps = append(ps, newPosting(ib[i], want))
	}
	return ps
}

// matchRaw matches a record in stored form on its bytes. sure is false when
// it cannot tell (a time it cannot parse); then the caller decodes.
func (m *matcher) matchRaw(raw *storedView) (match, sure bool) {
	q := &m.q
	if raw.seq <= q.AfterSeq || (q.BeforeSeq != 0 && raw.seq >= q.BeforeSeq) {
		return false, true
	}
	for i, want := range m.exact {
		if want != nil && !bytes.Equal(raw.field(i), want) {
			return false, true
		}
	}
	for _, g := range []struct {
		on   bool
		i    int
		want string
	}{{m.targetGlob, strTarget, q.Target}, {m.actGlob, strAction, q.Action}, {m.codeGlob, strCode, q.Code}} {
		if g.on {
			if ok, _ := path.Match(g.want, unquoteStored(raw.field(g.i))); !ok {
				return false, true
			}
		}
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		t, ok := raw.parseTime()
		if !ok {
			return false, false
		}
		if (!q.Since.IsZero() && t.Before(q.Since)) || (!q.Until.IsZero() && !t.Before(q.Until)) {
			return false, true
		}
	}
	return true, true
}

// unquoteStored decodes the content of a canonical string that scanStored
// accepted (its only escapes are \\ and \").
func unquoteStored(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			i++
		}
		out = append(out, b[i])
	}
	return string(out)
}

// isGlob reports whether p uses glob syntax and checks that it is valid.
func isGlob(p string) (bool, error) {
	if !strings.ContainsAny(p, `*?[\`) {
		return false, nil
	}
	_, err := path.Match(p, "")
	return true, err
}

func (m *matcher) match(r *Record) bool {
	q := &m.q
	switch {
	case r.Seq <= q.AfterSeq,
		q.BeforeSeq != 0 && r.Seq >= q.BeforeSeq,
		q.Actor != "" && r.Actor != q.Actor,
		q.Outcome != "" && r.Outcome != q.Outcome,
		q.Session != "" && r.Session != q.Session,
		!q.Since.IsZero() && r.Time.Before(q.Since),
		!q.Until.IsZero() && !r.Time.Before(q.Until):
		return false
	}
	return matchField(q.Target, m.targetGlob, r.Target) && matchField(q.Action, m.actGlob, r.Action) &&
		matchField(q.Code, m.codeGlob, r.Code)
}

func matchField(want string, glob bool, got string) bool {
	switch {
	case want == "":
		return true
	case glob:
		ok, _ := path.Match(want, got)
		return ok
	default:
		return got == want
	}
}

// Get returns the record with sequence number seq, or an error wrapping
// ErrNotFound.
func (s *Store) Get(ctx context.Context, seq uint64) (Record, error) {
	if err := checkCtx(ctx); err != nil {
		return Record{}, err
	}
	if err := s.settle(ctx); err != nil {
		return Record{}, fmt.Errorf("audit: get #%d: %w", seq, err)
	}
	if r, ok, err := s.tailGet(seq); ok || err != nil {
		return r, err
	}
	var r Record
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(seqKey(seq))
		if v == nil {
			return ErrNotFound
		}
		var err error
		if r, err = decodeStored(v); err != nil {
			return err
		}
		if r.Seq != seq {
			return fmt.Errorf("%w: record stored as #%d says it is #%d", ErrCorrupt, seq, r.Seq)
		}
		return nil
	})
	if err != nil {
		return Record{}, fmt.Errorf("audit: get #%d: %w", seq, err)
	}
	return r, nil
}
