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
	chunkFlushSize  = 32 << 10                                // flush a chunk at this many bytes
	chunkHardLimit  = audit.MaxDataSize - audit.FrameOverhead // never exceed the record limit
	chunkFlushEvery = 250 * time.Millisecond                  // flush at least this often
)

// errRecordingBehind means the audit log could not keep up.
var errRecordingBehind = errors.New("console: recording cannot keep up with the console")

// recorder writes one stream of console traffic (a console's output or a
// writer's input) as chunk records. Write never blocks on the audit log: a
// background goroutine appends full or aged chunks. When a chunk cannot be
// written, or the next one fills up while the audit log is still busy with
// the previous, onFail is called once and further writes are dropped.
type recorder struct {
	appendRec func(ctx context.Context, r audit.Record) error
	base      audit.Record
	onFail    func(error)
	now       func() time.Time

	mu     sync.Mutex
	t0     time.Time
	buf    []byte
	seq    int
	failed bool
	kick   chan struct{}
	done   chan struct{}
	stop   chan struct{}
	once   sync.Once
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
	if len(r.buf)+len(p)+audit.FrameOverhead > chunkHardLimit {
		r.failed = true
		r.mu.Unlock()
		r.onFail(errRecordingBehind)
		return
	}
	if len(r.buf) == 0 {
		r.t0 = now
	}
	r.buf = audit.AppendFrame(r.buf, r.t0, now, p)
	full := len(r.buf) >= chunkFlushSize
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

func (r *recorder) loop() {
	defer close(r.done)
	t := time.NewTicker(chunkFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			r.flush()
			return
		case <-t.C:
		case <-r.kick:
		}
		r.flush()
	}
}

// flush appends the buffered chunk, if any.
func (r *recorder) flush() {
	r.mu.Lock()
	if len(r.buf) == 0 || r.failed {
		r.mu.Unlock()
		return
	}
	data, t0 := r.buf, r.t0
	r.buf = nil
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	rec := r.base
	rec.Fields = map[string]string{audit.FieldT0: t0.UTC().Format(time.RFC3339Nano), "chunk": strconv.Itoa(seq)}
	for k, v := range r.base.Fields {
		rec.Fields[k] = v
	}
	rec.Data = data
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.appendRec(ctx, rec); err != nil {
		r.mu.Lock()
		r.failed = true
		r.mu.Unlock()
		r.onFail(err)
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
