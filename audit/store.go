package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket and key names of the storage layout (see the package comment).
var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	keyFormat     = []byte("format")
	keyHead       = []byte("head")
)

// Defaults for Options.
const (
	DefaultOpenTimeout = time.Second
	DefaultQueueSize   = 4096
	DefaultMaxBatch    = 1024
	DefaultQueueWait   = 5 * time.Second
)

// initialMmapSize reserves address space up front so that the writer rarely
// has to remap the file (a remap waits for open read transactions). It is
// virtual memory only; the file grows as data is written.
const initialMmapSize = 256 << 20

// Options configure Open. The zero value is a durable, writable store.
type Options struct {
	// ReadOnly opens for Verify, Search and Get only (offline tools). It
	// takes a shared lock and never modifies the file.
	ReadOnly bool
	// OpenTimeout bounds the wait for the file lock (default 1s). When it
	// expires Open returns ErrInUse: a running gateway holds the file.
	OpenTimeout time.Duration
	// QueueSize is the maximum number of pending appends (default 4096).
	// Append blocks, honouring its ctx, while the queue is full.
	QueueSize int
	// QueueWait bounds the wait for room in a full queue when Append's ctx
	// can never end (ctx.Done() == nil, e.g. context.Background); default 5s.
	// Otherwise Append waits as long as its ctx allows.
	QueueWait time.Duration
	// MaxBatch is the maximum number of records per commit (default 1024).
	MaxBatch int
	// NoSync skips fsync on the WAL and on commit. UNSAFE: a crash can
	// lose records that Append reported as stored. For tests and
	// benchmarks only.
	NoSync bool
	// WALSize is the size a write-ahead log file grows to before the
	// writer starts a new one (default 8 MiB), and the size a busy writer
	// preallocates its next file to; a full file is deleted once the
	// database holds all of it.
	WALSize int64
	// MaxLag is the most records acknowledged (durable in the WAL) and not
	// yet committed to the database; past it, or past 64 MiB of them,
	// appends wait for the database (default 16384).
	MaxLag int
	// MinFree is the free space the log's filesystem must keep for
	// Headroom to report room for new sessions; zero checks nothing.
	MinFree DiskFloor
	// Reindex drops the search indexes and builds them again from the
	// records at Open (writable stores only). Without it a writable Open
	// builds them only when they do not cover every record yet (a log
	// written before they existed).
	Reindex bool
	// Logger receives commit failures and other operational messages
	// (never record contents). Default: slog.Default().
	Logger *slog.Logger

	// createWAL creates a WAL file (a test hook; default createWALFile).
	createWAL func(path string) (walFile, error)
}

// Store is an open audit log. All methods are safe for concurrent use.
type Store struct {
	db        *bolt.DB
	path      string
	dir       string // the directory of path, which holds the WAL files
	log       *slog.Logger
	readOnly  bool
	noSync    bool
	maxBatch  int
	queueWait time.Duration
	walSize   int64
	maxLag    int

	sendMu     sync.RWMutex // held (read) while enqueueing; (write) by Close
	closed     bool         // guarded by sendMu
	sealed     bool         // AppendFinal ran; guarded by sendMu
	closing    chan struct{}
	reqs       chan *appendReq
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error

	headMu   sync.Mutex
	headSeq  uint64
	headHash [32]byte
	headTime time.Time // writer goroutine (and Open) only

	stats storeStats
	disk  *diskWatch // nil for a read-only store

	wal       walWriter // the writer goroutine's (see walwrite.go)
	createWAL func(path string) (walFile, error)
	syncDir   func(dir string) error
	spare     atomic.Int32   // spareNone, spareMaking, spareReady, spareFailed
	spareWG   sync.WaitGroup // the goroutine making the spare
	segMu     sync.Mutex
	doneSegs  []doneSeg // full WAL files, oldest first; guarded by segMu

	apMu sync.Mutex
	ap   applyState // guarded by apMu (its channels are set at Open)

	// tail holds, for a read-only store, the records only the WAL holds
	// (a gateway stopped without applying them); Search, Get and Verify
	// include them.
	tail []walRec

	// Test hooks, set before the first Append.
	now          func() time.Time
	beforeCommit func(tx *bolt.Tx) error // in the applier's transaction
	beforeWAL    func() error            // in the writer, before a group's WAL write
}

// Stats are counters of a store since Open.
type Stats struct {
	Appended      uint64 // records made durable (acknowledged)
	Commits       uint64 // successful group commits (one WAL write and fdatasync each)
	FailedCommits uint64 // group commits that failed
	FailedRecords uint64 // records refused because their commit failed
	LargestBatch  int    // most records in one group commit
	Applies       uint64 // transactions committing acknowledged records to the database
}

type storeStats struct {
	appended, commits, failedCommits, failedRecords, applies atomic.Uint64
	largestBatch                                             atomic.Int64
}

// Open opens (creating it if needed, unless ReadOnly) the audit log at path.
//
// A writable Open checks that the chain head in the meta bucket matches the
// last record and returns ErrCorrupt if not: a gateway must not extend a log
// whose tail was tampered with (run Verify on it, move it aside). A read-only
// Open does not check; use Verify.
func Open(path string, opts Options) (*Store, error) {
	return OpenContext(context.Background(), path, opts)
}

// OpenContext is Open; ctx bounds the building of the search indexes a
// writable Open may do (see Options.Reindex).
func OpenContext(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = DefaultOpenTimeout
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = DefaultQueueWait
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WALSize <= 0 {
		opts.WALSize = DefaultWALSize
	}
	if opts.MaxLag <= 0 {
		opts.MaxLag = DefaultMaxLag
	}
	if opts.createWAL == nil {
		opts.createWAL = createWALFile
	}
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:        db,
		path:      path,
		dir:       filepath.Dir(path),
		log:       opts.Logger.With("component", "audit"),
		readOnly:  opts.ReadOnly,
		noSync:    opts.NoSync,
		maxBatch:  opts.MaxBatch,
		queueWait: opts.QueueWait,
		walSize:   opts.WALSize,
		maxLag:    opts.MaxLag,
		createWAL: opts.createWAL,
		syncDir:   syncDir,
		closing:   make(chan struct{}),
		now:       time.Now,
	}
	if opts.NoSync {
		s.syncDir = func(string) error { return nil }
	}
	if err := s.open(ctx, opts); err != nil {
		db.Close()
		return nil, &OpenError{Path: path, Err: err}
	}
	return s, nil
}

// open loads the head, reads the WAL (a writable store replays it and
// builds missing indexes) and starts the writer and the applier.
func (s *Store) open(ctx context.Context, opts Options) error {
	if err := s.loadHead(); err != nil {
		return err
	}
	wal, err := s.loadWAL()
	if err != nil {
		return err
	}
	if s.readOnly {
		s.tail = wal.recs
		if n := len(wal.recs); n > 0 {
			s.headSeq, s.headHash = wal.recs[n-1].seq, wal.hash
		}
		return nil
	}
	if err := s.replayWAL(wal); err != nil {
		return err
	}
	if err := s.ensureIndexed(ctx, opts.Reindex); err != nil {
		return err
	}
	if err := os.Remove(sparePath(s.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write-ahead log: %w", err) // left by a crash while it was made
	}
	if err := s.startWAL(); err != nil {
		return err
	}
	s.disk = newDiskWatch(s.path, opts.MinFree)
	s.reqs = make(chan *appendReq, opts.QueueSize)
	s.writerDone = make(chan struct{})
	s.ap = applyState{
		applied: s.headSeq,
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		hurry:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	go s.writer()
	go s.applier()
	return nil
}

// openBolt opens the bbolt file and maps its errors to ours.
func openBolt(path string, opts Options) (db *bolt.DB, err error) {
	if err := checkFileSize(path); err != nil {
		return nil, &OpenError{Path: path, Err: err}
	}
	err = protect(func() error {
		var oerr error
		db, oerr = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:         opts.OpenTimeout,
			ReadOnly:        opts.ReadOnly,
			NoSync:          opts.NoSync,
			InitialMmapSize: initialMmapSize,
			FreelistType:    bolt.FreelistMapType,
		})
		return oerr
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &OpenError{Path: path, Err: ErrInUse}
	case errors.Is(err, ErrCorrupt):
		return nil, &OpenError{Path: path, Err: err}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), isShortFile(err):
		return nil, &OpenError{Path: path, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s: %w", pe.Op, pe.Err) // the path is already in the message
		}
		return nil, &OpenError{Path: path, Err: err}
	}
}

// isShortFile reports bbolt's error for a file too small to hold its own
// header (a truncated database).
func isShortFile(err error) bool {
	return strings.Contains(err.Error(), "file size too small")
}

// loadHead creates the buckets (writable store) and reads the chain head.
func (s *Store) loadHead() error {
	if s.readOnly {
		return s.view(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return nil
			}
			if err := checkFormat(meta); err != nil {
				return err
			}
			if seq, hash, ok := decodeHead(meta.Get(keyHead)); ok {
				s.headSeq, s.headHash = seq, hash
			}
			return nil
		})
	}
	return protect(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			recs, err := tx.CreateBucketIfNotExists(bucketRecords)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
			if meta.Get(keyFormat) == nil {
				if err := meta.Put(keyFormat, []byte(formatVersion)); err != nil {
					return err
				}
			} else if err := checkFormat(meta); err != nil {
				return err
			}
			return s.checkTail(recs, meta)
		})
	})
}

// checkFormat rejects a database written in another format.
func checkFormat(meta *bolt.Bucket) error {
	if f := meta.Get(keyFormat); f != nil && string(f) != formatVersion {
		return fmt.Errorf("%w: unsupported format \"%s\"", ErrCorrupt, Sanitize(string(f)))
	}
	return nil
}

// checkTail loads the head for a writable store and checks it against the
// last record.
func (s *Store) checkTail(recs, meta *bolt.Bucket) error {
	const hint = "run the offline audit verify and move the file aside"
	k, v := recs.Cursor().Last()
	head := meta.Get(keyHead)
	if head == nil {
		if k != nil {
			return fmt.Errorf("%w: records exist but the chain head is missing; %s", ErrCorrupt, hint)
		}
		return nil
	}
	seq, hash, ok := decodeHead(head)
	if !ok {
		return fmt.Errorf("%w: chain head is unreadable; %s", ErrCorrupt, hint)
	}
	last, ok := keySeq(k)
	if !ok || last != seq || v == nil {
		return fmt.Errorf("%w: chain head #%d does not match the last record; %s", ErrCorrupt, seq, hint)
	}
	r, err := decodeStored(v)
	if err != nil {
		return fmt.Errorf("last record #%d: %w; %s", seq, err, hint)
	}
	if r.Seq != seq || r.Hash != hex.EncodeToString(hash[:]) {
		return fmt.Errorf("%w: chain head #%d does not match the last record's hash; %s", ErrCorrupt, seq, hint)
	}
	s.headSeq, s.headHash, s.headTime = seq, hash, r.Time
	return nil
}

// Close stops accepting appends, commits those already queued, stops the
// writer and closes the file. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.sendMu.Lock()
		s.closed = true
		s.sendMu.Unlock()
		if !s.readOnly {
			close(s.reqs) // no sender can be in flight: closed is set under sendMu
			<-s.writerDone
			<-s.ap.done
			s.closeWAL()
		}
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("audit: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Head returns the sequence number and hash of the last committed record:
// (0, 64 zeros) for an empty log. A read-only store reports the head as of
// Open.
func (s *Store) Head() (seq uint64, hash string) {
	s.headMu.Lock()
	defer s.headMu.Unlock()
	return s.headSeq, hex.EncodeToString(s.headHash[:])
}

// Stats returns counters since Open.
func (s *Store) Stats() Stats {
	return Stats{
		Appended:      s.stats.appended.Load(),
		Commits:       s.stats.commits.Load(),
		FailedCommits: s.stats.failedCommits.Load(),
		FailedRecords: s.stats.failedRecords.Load(),
		LargestBatch:  int(s.stats.largestBatch.Load()),
		Applies:       s.stats.applies.Load(),
	}
}

// isClosing reports whether Close has begun.
func (s *Store) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// view runs fn in a read-only transaction, mapping a closed database to
// ErrClosed and a panic inside bbolt (a damaged file) to ErrCorrupt.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.isClosing() {
		return ErrClosed
	}
	err := protect(func() error { return s.db.View(fn) })
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// protect turns a panic in fn (bbolt panics on some damaged pages) into an
// ErrCorrupt error.
//
// A fault on the file's memory map (the file shrank under us: SIGBUS) is
// turned into a panic for this goroutine and so into ErrCorrupt too.
func protect(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s", ErrCorrupt, Sanitize(fmt.Sprint(p)))
		}
	}()
	return fn()
}

// checkCtx returns ctx's error wrapped for the caller.
func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
