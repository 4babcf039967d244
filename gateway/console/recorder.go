package console

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
)

// Recording limits.
const (
	chunkFlushSize   = 32 << 10               // seal a chunk at this many bytes (well below audit.MaxDataSize)
	chunkFlushEvery  = 250 * time.Millisecond // flush at least this often
	maxPendingChunks = 4                      // sealed chunks waiting for the audit log
)

// errRecordingBehind means the audit log could not keep up.
var errRecordingBehind = errors.New("console: recording cannot keep up with the console")

// chunk is one sealed piece of a recording.
type chunk struct {
	t0   time.Time
	data []byte
}

// recorder writes one stream of console traffic (a console's output or a
// writer's input) as chunk records. Write never blocks on the audit log:
// sealed chunks are appended by a flusher goroutine that runs only while
// there is something to append, and a timer makes sure buffered bytes are
// written within chunkFlushEvery. When a chunk cannot be written, or more
// than maxPendingChunks wait for a slow audit log, onFail is called once
// and further writes are dropped: memory stays bounded and the caller ends
// the sessions (fail closed). No goroutine is held while a console is
// quiet, which keeps hundreds of consoles cheap.
type recorder struct {
	appendRec func(ctx context.Context, r audit.Record) error
	base      audit.Record
	onFail    func(error)
	now       func() time.Time
	afterFunc func(time.Duration, func()) stopper // the flush deadline's timer (tests fire it)

	mu        sync.Mutex
	t0        time.Time
	buf       []byte
	pending   []chunk
	seq       int
	failed    bool
	closed    bool
	timer     stopper       // armed while bytes wait in buf
	flushing  bool          // a flusher goroutine runs
	again     bool          // run the flusher once more when it ends
	againAll  bool          // ... sealing the current buffer too
	flushDone chan struct{} // closed when the running flusher ends
	appendMu  sync.Mutex    // one append run at a time (chunk order)
}

func newRecorder(appendRec func(context.Context, audit.Record) error, base audit.Record, onFail func(error)) *recorder {
	return &recorder{appendRec: appendRec, base: base, onFail: onFail, now: time.Now, afterFunc: afterFunc}
}

// stopper is the part of *time.Timer the recorder uses.
type stopper interface{ Stop() bool }

// afterFunc is time.AfterFunc as the recorder uses it.
func afterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// Write records p as written now.
func (r *recorder) Write(p []byte) {
	for len(p) > 0 {
		n := min(len(p), chunkFlushSize)
		r.write(p[:n])
		p = p[n:]
	}
}

func (r *recorder) write(p []byte) {
	now := r.now()
	r.mu.Lock()
	if r.failed {
		r.mu.Unlock()
		return
	}
	if len(r.buf) > 0 && len(r.buf)+len(p)+audit.FrameOverhead > chunkFlushSize {
		if !r.sealLocked() {
			r.mu.Unlock()
			r.onFail(errRecordingBehind)
			return
		}
		r.startFlushLocked(false)
	}
	if len(r.buf) == 0 {
		r.t0 = now
	}
	r.buf = audit.AppendFrame(r.buf, r.t0, now, p)
	if r.timer == nil && !r.closed {
		r.timer = r.afterFunc(chunkFlushEvery, r.tick)
	}
	r.mu.Unlock()
}

// tick seals what was buffered and flushes it (the timer's deadline).
func (r *recorder) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	r.startFlushLocked(true)
}

// flushNow seals what is buffered and returns once it, and every chunk
// before it, is appended (or the recorder has failed or closed).
func (r *recorder) flushNow() {
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.startFlushLocked(true)
	var running chan struct{}
	if r.flushing {
		running = r.flushDone
	}
	r.mu.Unlock()
	if running != nil {
		<-running
	}
}

// startFlushLocked starts the flusher, or asks the running one for one
// more run. all also seals the current buffer.
func (r *recorder) startFlushLocked(all bool) {
	if r.closed || r.failed {
		return
	}
	if r.flushing {
		r.again = true
		r.againAll = r.againAll || all
		return
	}
	r.flushing = true
	r.flushDone = make(chan struct{})
	go r.runFlush(all)
}

// runFlush flushes until no further run was asked for.
func (r *recorder) runFlush(all bool) {
	for {
		r.flush(all)
		r.mu.Lock()
		if !r.again || r.closed {
			r.flushing = false
			close(r.flushDone)
			r.mu.Unlock()
			return
		}
		all = r.againAll
		r.again, r.againAll = false, false
		r.mu.Unlock()
	}
}

// sealLocked moves the current buffer to the pending chunks. It fails the
// recorder when too many chunks are waiting.
func (r *recorder) sealLocked() bool {
	if len(r.buf) == 0 {
		return true
	}
	if len(r.pending) >= maxPendingChunks {
		r.failed = true
		r.buf, r.pending = nil, nil
		return false
	}
	r.pending = append(r.pending, chunk{t0: r.t0, data: r.buf})
	r.buf = nil
	return true
}

// flush appends the pending chunks (and, with all, the current buffer).
func (r *recorder) flush(all bool) {
	r.mu.Lock()
	if all && !r.sealLocked() {
		r.mu.Unlock()
		r.onFail(errRecordingBehind)
		return
	}
	r.mu.Unlock()
	r.appendMu.Lock()
	defer r.appendMu.Unlock()
	for {
		r.mu.Lock()
		if r.failed || len(r.pending) == 0 {
			r.mu.Unlock()
			return
		}
		c := r.pending[0]
		r.pending = r.pending[1:]
		r.seq++
		seq := r.seq
		r.mu.Unlock()
		rec := r.base
		rec.Fields = map[string]string{audit.FieldT0: c.t0.UTC().Format(time.RFC3339Nano), "chunk": strconv.Itoa(seq)}
		for k, v := range r.base.Fields {
			rec.Fields[k] = v
		}
		rec.Data = c.data
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.appendRec(ctx, rec)
		cancel()
		if err != nil {
			r.mu.Lock()
			r.failed = true
			r.pending, r.buf = nil, nil
			r.mu.Unlock()
			r.onFail(err)
			return
		}
	}
}

// Close flushes what is buffered and stops the recorder. It reports
// whether everything was recorded.
func (r *recorder) Close() bool {
	r.mu.Lock()
	if r.closed {
		ok := !r.failed
		r.mu.Unlock()
		return ok
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	var running chan struct{}
	if r.flushing {
		running = r.flushDone
	}
	r.mu.Unlock()
	if running != nil {
		<-running
	}
	r.flush(true)
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed
}
