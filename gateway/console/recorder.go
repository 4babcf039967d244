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
// writer's input) as chunk records. Write never blocks on the audit log: a
// background goroutine appends sealed chunks, at least every 250 ms. When a
// chunk cannot be written, or more than maxPendingChunks wait for a slow
// audit log, onFail is called once and further writes are dropped: memory
// stays bounded and the caller ends the sessions (fail closed).
type recorder struct {
	appendRec func(ctx context.Context, r audit.Record) error
	base      audit.Record
	onFail    func(error)
	now       func() time.Time

	mu      sync.Mutex
	t0      time.Time
	buf     []byte
	pending []chunk
	seq     int
	failed  bool
	kick    chan struct{}
	done    chan struct{}
	stop    chan struct{}
	once    sync.Once
}

func newRecorder(appendRec func(context.Context, audit.Record) error, base audit.Record, onFail func(error)) *recorder {
	r := &recorder{appendRec: appendRec, base: base, onFail: onFail, now: time.Now,
		kick: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{})}
	go r.loop()
	return r
}

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
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	if len(r.buf) == 0 {
		r.t0 = now
	}
	r.buf = audit.AppendFrame(r.buf, r.t0, now, p)
	r.mu.Unlock()
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

func (r *recorder) loop() {
	defer close(r.done)
	t := time.NewTicker(chunkFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			r.flush(true)
			return
		case <-t.C:
			r.flush(true)
		case <-r.kick:
			r.flush(false)
		}
	}
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
	r.once.Do(func() { close(r.stop) })
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.failed
}
