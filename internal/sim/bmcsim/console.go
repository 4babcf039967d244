package bmcsim

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/bougou/go-ipmi/pkg/hal"
)

// echoConsole is the serial console of the fake host: it greets with a
// login prompt and echoes every byte it receives. One SOL activation at a
// time; SSH console sessions (sshconsole.go) attach as taps beside it, and
// the host's echo reaches every attachment, so what is typed through one
// is seen on the others.
type echoConsole struct {
	name string

	mu       sync.Mutex
	active   *echoConn
	taps     map[*consoleTap]struct{}
	received []byte        // every byte the host received, up to maxReceived
	changed  chan struct{} // closed when input or a break arrives
	breaks   atomic.Int64  // serial breaks received, over all attachments
}

// Bounds of the fake host's buffers.
const (
	maxReceived = 1 << 20 // bytes of received input kept for tests
	maxPending  = 1 << 20 // output an attachment has not read yet
)

var errConsoleBusy = errors.New("console already attached")

func (c *echoConsole) Open(context.Context) (hal.ConsoleConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != nil && !c.active.isClosed() {
		return nil, errConsoleBusy
	}
	conn := &echoConn{host: c}
	conn.rx.WriteString("\r\n" + c.name + " login: ")
	c.active = conn
	return conn, nil
}

// echoConn is one attachment to the echo console.
type echoConn struct {
	host   *echoConsole
	mu     sync.Mutex
	rx     bytes.Buffer
	closed bool
}

var _ hal.ConsoleConn = (*echoConn)(nil)

func (e *echoConn) Write(p []byte) (int, error) {
	if e.isClosed() {
		return 0, errors.New("console closed")
	}
	e.host.receive(p)
	return len(p), nil
}

// receive is input arriving on the host's serial line, from SOL or SSH:
// the host echoes it (a carriage return as CR LF) to every attachment.
func (c *echoConsole) receive(p []byte) {
	echo := make([]byte, 0, len(p)+4)
	for _, b := range p {
		echo = append(echo, b)
		if b == '\r' {
			echo = append(echo, '\n')
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := min(len(p), maxReceived-len(c.received)); n > 0 {
		c.received = append(c.received, p[:n]...)
	}
	if c.active != nil {
		c.active.push(echo)
	}
	for t := range c.taps {
		t.push(echo)
	}
	c.signalLocked()
}

// gotBreak counts a serial break.
func (c *echoConsole) gotBreak() {
	c.breaks.Add(1)
	c.mu.Lock()
	c.signalLocked()
	c.mu.Unlock()
}

func (c *echoConsole) signalLocked() {
	if c.changed != nil {
		close(c.changed)
	}
	c.changed = make(chan struct{})
}

// changedChan returns a channel closed at the next input or break.
func (c *echoConsole) changedChan() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.changed
}

// push queues host output for the SOL attachment (dropped beyond
// maxPending, as a serial line without flow control would).
func (e *echoConn) push(p []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed && e.rx.Len()+len(p) <= maxPending {
		e.rx.Write(p)
	}
}

func (e *echoConn) ReadAvailable(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rx.Len() == 0 {
		return 0, nil
	}
	return e.rx.Read(p)
}

func (e *echoConn) SendBreak(context.Context) error {
	e.host.gotBreak()
	return nil
}

func (e *echoConn) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

func (e *echoConn) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}
