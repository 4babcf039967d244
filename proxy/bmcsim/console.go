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
// login prompt and echoes every byte it receives. One activation at a time.
type echoConsole struct {
	name string

	mu     sync.Mutex
	active *echoConn
	breaks atomic.Int64 // serial breaks received, over all attachments
}

var errConsoleBusy = errors.New("console already attached")

func (c *echoConsole) Open(context.Context) (hal.ConsoleConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != nil && !c.active.isClosed() {
		return nil, errConsoleBusy
	}
	conn := &echoConn{breaks: &c.breaks}
	conn.rx.WriteString("\r\n" + c.name + " login: ")
	c.active = conn
	return conn, nil
}

// echoConn is one attachment to the echo console.
type echoConn struct {
	mu     sync.Mutex
	rx     bytes.Buffer
	closed bool
	breaks *atomic.Int64
}

var _ hal.ConsoleConn = (*echoConn)(nil)

func (e *echoConn) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, errors.New("console closed")
	}
	for _, b := range p {
		e.rx.WriteByte(b)
		if b == '\r' {
			e.rx.WriteByte('\n')
		}
	}
	return len(p), nil
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
	e.breaks.Add(1)
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
