// Package audit is bmcgate's tamper-evident audit log.
//
// Every login, authorization decision, command and BMC call is appended to a
// bbolt database as a [Record]. Records form a hash chain: each record carries
// the hash of its predecessor (Prev) and its own hash (Hash), computed over a
// documented canonical encoding (see canonical.go), so that editing, deleting,
// inserting or reordering records is detected by [Store.Verify]. The chain
// head (sequence number and hash) is also kept in a meta bucket, written in the
// same transaction as the records, which exposes a truncated tail. A rewrite of
// the whole chain by someone with write access to the file can only be
// detected against an external anchor: keep a copy of [Store.Head] elsewhere.
//
// [Store.Append] is the only way in. It escapes every string field with
// [Sanitize] so that no control or bidi character ever reaches an auditor's
// terminal raw, assigns the sequence number, time and hashes, and returns only
// after the record is durable. Callers must treat an error from Append as
// "not recorded" and refuse the action (fail closed). Appends from many
// goroutines are group-committed by one writer goroutine, which owns the
// chain head: it chains each group in memory, writes it as one checksummed
// frame to the write-ahead log (WAL, see wal.go) with one fdatasync, and
// acknowledges it. An applier goroutine then commits the acknowledged
// records to bbolt in large transactions (bbolt syncs its data pages, then
// its meta page) and removes the WAL files bbolt covers; a writable Open
// replays what the WAL holds beyond bbolt, refusing a damaged or edited
// WAL. A failed WAL write or bbolt commit fails the store: every later
// append is refused until it is reopened. Reads (Search, Get, Verify) first
// wait for the applier to reach every record acknowledged before they
// began. [Store.Enqueue] queues a record for the next group commit without
// waiting for it, for records whose loss with the process is acceptable
// (reads already decided).
//
// Storage layout (one bbolt file, plus the WAL files beside it:
// <file>-wal-<first seq in 16 hex digits>, and <file>-wal.spare, a
// preallocated file of zeros the next WAL file is made from):
//
//	bucket "records": key = Seq as 8-byte big-endian, value = stored form of the record
//	bucket "meta":    "format" = "bmcgate-audit/1"
//	                  "head"   = Seq (8-byte big-endian) || Hash (32 raw bytes)
//	                  "verified" = the verified checkpoint, same form as "head"
//	                  "index"  = "bmcgate-audit-index/1" once the indexes cover every record
//	bucket "index":   one nested bucket per indexed field (actor, target, action,
//	                  session, code); key = value || 0x00 || Seq, empty value
//
// Records and their index entries are written by the same transaction.
// [Store.Search] intersects the index entries of a query's exact filters
// and matches candidates on their stored bytes before decoding them (see
// index.go and scan.go); [Store.Verify] hashes the stored canonical bytes
// and compares the indexes with the records.
//
// Records are immutable once written, so [Store.Search], [Store.Get] and
// [Store.Verify] read in short read-only transactions and never block the
// writer for long. A store opened with Options.ReadOnly (offline tools) takes
// a shared file lock and never modifies the file.
package audit
