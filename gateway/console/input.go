package console

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Input recording: a writer's keystrokes reach the BMC only after they are
// durably recorded. inputPipe appends each batch of typed bytes as one
// console.input chunk and hands the batch to send only once the append has
// returned; a batch that cannot be recorded is never sent. While one append
// is under way, later keystrokes gather into the next batch, so a fast
// typist or a paste costs one commit per batch, not per byte (the audit log
// commits concurrent appends together as well).

// Fields of console.input records that say what became of the bytes.
const (
	fieldInput       = "input"       // absent: recorded before it was sent to the BMC
	inputRefused     = "refused"     // never sent (the record is the only trace)
	inputUndelivered = "undelivered" // recorded and sent earlier, but the BMC did not accept it
)

// maxInputPending bounds typed bytes waiting for their record.
const maxInputPending = 16 << 10

// errInputBehind refuses keystrokes while too many wait for the audit log.
var errInputBehind = &service.UserError{Msg: "input not sent: the audit log is not keeping up; type again shortly"}

type inputPipe struct {
	appendRec func(ctx context.Context, r audit.Record) error
	base      audit.Record
	send      func(p []byte)         // in order, one call at a time, with recorded bytes
	onFail    func(err error, n int) // once: a batch of n bytes could not be recorded and was not sent
	now       func() time.Time

	mu      sync.Mutex
	t0      time.Time
	frames  []byte // the next chunk's data
	raw     []byte // the bytes in frames
	seq     int
	running bool          // a goroutine appends and sends
	done    chan struct{} // closed when it stops
	failed  bool
	closed  bool
}

func newInputPipe(appendRec func(context.Context, audit.Record) error, base audit.Record, send func([]byte), onFail func(error, int)) *inputPipe {
	return &inputPipe{appendRec: appendRec, base: base, send: send, onFail: onFail, now: time.Now}
}

// Write queues p to be recorded and then sent. It never blocks on the
// audit log; it refuses p (nothing of it is sent) when the recording failed
// or too much waits for it.
func (ip *inputPipe) Write(p []byte) error {
	now := ip.now()
	ip.mu.Lock()
	defer ip.mu.Unlock()
	switch {
	case ip.failed || ip.closed:
		return errRecording
	case len(ip.raw)+len(p) > maxInputPending || len(ip.frames)+len(p)+audit.FrameOverhead > chunkFlushSize:
		return errInputBehind
	}
	if len(ip.raw) == 0 {
		ip.t0 = now
	}
	ip.frames = audit.AppendFrame(ip.frames, ip.t0, now, p)
	ip.raw = append(ip.raw, p...)
	if !ip.running {
		ip.running = true
		ip.done = make(chan struct{})
		go ip.run()
	}
	return nil
}

// run records and sends batches until none is waiting.
func (ip *inputPipe) run() {
	for {
		ip.mu.Lock()
		if len(ip.raw) == 0 || ip.failed {
			ip.running = false
			close(ip.done)
			ip.mu.Unlock()
			return
		}
		frames, raw, t0 := ip.frames, ip.raw, ip.t0
		ip.frames, ip.raw = nil, nil
		ip.seq++
		rec := ip.base
		rec.Fields = map[string]string{audit.FieldT0: t0.UTC().Format(time.RFC3339Nano), "chunk": strconv.Itoa(ip.seq)}
		ip.mu.Unlock()
		for k, v := range ip.base.Fields {
			rec.Fields[k] = v
		}
		rec.Data = frames
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := ip.appendRec(ctx, rec)
		cancel()
		if err != nil {
			ip.mu.Lock()
			ip.failed = true
			n := len(raw) + len(ip.raw)
			ip.frames, ip.raw = nil, nil
			ip.mu.Unlock()
			ip.onFail(err, n)
			continue
		}
		ip.send(raw)
	}
}

// Close refuses further input, waits until what was typed before is
// recorded and sent, and reports whether all of it was recorded.
func (ip *inputPipe) Close() bool {
	ip.mu.Lock()
	ip.closed = true
	var running chan struct{}
	if ip.running {
		running = ip.done
	}
	ip.mu.Unlock()
	if running != nil {
		<-running
	}
	ip.mu.Lock()
	defer ip.mu.Unlock()
	return !ip.failed
}

// notSentRecord is a console.input record for bytes the BMC did not get:
// what (inputRefused or inputUndelivered), why in plain words, and the bytes
// as one frame.
func notSentRecord(base audit.Record, what, why string, p []byte, at time.Time) audit.Record {
	r := base
	r.Outcome, r.Reason = audit.OutcomeError, why
	r.Fields = map[string]string{audit.FieldT0: at.UTC().Format(time.RFC3339Nano), fieldInput: what, "bytes": strconv.Itoa(len(p))}
	for k, v := range base.Fields {
		r.Fields[k] = v
	}
	r.Data = audit.AppendFrame(nil, at, at, p)
	return r
}
