package console

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// maxViewerQueue bounds output waiting for one viewer's terminal.
const maxViewerQueue = 256 << 10

// viewer is one attached terminal.
type viewer struct {
	caller   service.Caller
	id       int
	since    time.Time
	canWrite bool
	checked  *service.State // the state canWrite was decided under; guarded by console.mu
	input    *inputPipe     // set once the viewer has typed as writer

	mu      sync.Mutex
	queue   []byte
	dropped int
	notify  chan struct{}
	lastIn  time.Time
	ctx     context.Context
	cancel  context.CancelCauseFunc
	outDone chan struct{}
}

func newViewer(ctx context.Context, c service.Caller, id int, canWrite bool) *viewer {
	vctx, cancel := context.WithCancelCause(ctx)
	now := time.Now()
	return &viewer{caller: c, id: id, since: now, lastIn: now, canWrite: canWrite,
		notify: make(chan struct{}, 1), ctx: vctx, cancel: cancel, outDone: make(chan struct{})}
}

// send queues console output for the viewer without blocking. When the
// viewer is too slow, the bytes are dropped and it is told how many.
func (v *viewer) send(p []byte) {
	v.mu.Lock()
	if len(v.queue)+len(p) > maxViewerQueue {
		v.dropped += len(p)
	} else {
		v.queue = append(v.queue, p...)
	}
	v.mu.Unlock()
	select {
	case v.notify <- struct{}{}:
	default:
	}
}

// notice queues a one-line message from bmcgate, on a line of its own.
func (v *viewer) notice(format string, args ...any) {
	v.send([]byte("\r\n[bmcgate: " + fmt.Sprintf(format, args...) + "]\r\n"))
}

// pump writes queued output to w until the viewer ends.
func (v *viewer) pump(w io.Writer) {
	defer close(v.outDone)
	for {
		v.mu.Lock()
		q, dropped := v.queue, v.dropped
		v.queue, v.dropped = nil, 0
		v.mu.Unlock()
		if dropped > 0 {
			q = append([]byte(fmt.Sprintf("\r\n[bmcgate: your terminal is too slow; %d bytes of output were skipped]\r\n", dropped)), q...)
		}
		if len(q) > 0 {
			if _, err := w.Write(q); err != nil {
				v.cancel(errTerminalGone)
				return
			}
			continue
		}
		select {
		case <-v.ctx.Done():
			// Deliver what is left (the parting message) and stop.
			v.mu.Lock()
			q := v.queue
			v.queue = nil
			v.mu.Unlock()
			if len(q) > 0 {
				_, _ = w.Write(q)
			}
			return
		case <-v.notify:
		}
	}
}

func (v *viewer) touch() {
	v.mu.Lock()
	v.lastIn = time.Now()
	v.mu.Unlock()
}

func (v *viewer) idleSince() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lastIn
}
