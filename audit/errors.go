package audit

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by the store. Compare with errors.Is: returned
// errors wrap these with context.
var (
	// ErrClosed is returned by every method called after Close, and by
	// Append for a record still queued when the store is being closed.
	ErrClosed = errors.New("audit: store is closed")

	// ErrSealed is returned by Append after AppendFinal: the store takes no
	// more records (the gateway is stopping). It wraps ErrClosed.
	ErrSealed = fmt.Errorf("%w for writes: the last record has been written", ErrClosed)

	// ErrNotFound is returned by Get when no record has the sequence number.
	ErrNotFound = errors.New("audit: record not found")

	// ErrInUse is returned by Open when the database file stays locked for
	// Options.OpenTimeout, which means another process (normally a running
	// gateway) has it open.
	ErrInUse = errors.New("in use by another process, normally a running bmcgate (the file is locked)")

	// ErrCorrupt is returned when the database cannot be read as an audit
	// log: not a bbolt file, missing buckets, an undecodable record, or (for a
	// writable Open) a chain head that disagrees with the last record. Verify
	// reports chain problems in its VerifyReport instead of returning this.
	ErrCorrupt = errors.New("damaged, truncated or not an audit log")

	// ErrQueueFull is returned by Append when the append queue stays full
	// (the disk cannot keep up): when ctx ends while waiting for room (the
	// error then also wraps the context's error), or after Options.QueueWait if
	// ctx can never end (ctx.Done() == nil, e.g. context.Background).
	ErrQueueFull = errors.New("audit: append queue is full")

	// ErrReadOnly is returned by Append on a store opened with ReadOnly.
	ErrReadOnly = errors.New("audit: store is read-only")

	// ErrInvalidRecord is returned by Append for a record that cannot be
	// stored: a missing or malformed Code, or Data larger than MaxDataSize.
	ErrInvalidRecord = errors.New("audit: invalid record")

	// ErrInvalidQuery is returned by Search for a malformed Query (a bad glob
	// pattern or a negative Limit).
	ErrInvalidQuery = errors.New("audit: invalid query")
)

// OpenError is the error of a failed Open: the file and what is wrong with
// it, in one line ("audit log /var/lib/bmcgate/audit.db: in use by another
// process ..."). It wraps the cause (ErrInUse, ErrCorrupt, an fs error).
type OpenError struct {
	Path string
	Err  error
}

func (e *OpenError) Error() string { return "audit log " + e.Path + ": " + e.Err.Error() }
func (e *OpenError) Unwrap() error { return e.Err }
