// Package solhost is a fake host serial port for tests and demos: a TCP
// server that a simulated BMC (OpenIPMI ipmi_sim's "sol tcp:..." backend)
// connects to as the host's serial line. On every connection it prints boot
// text, then echoes what it receives (a carriage return echoes as CR LF,
// like a terminal in cooked mode) and keeps a copy of every byte it got, so
// tests can compare what reached the host.
package solhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// maxKept bounds the received bytes kept for inspection.
const maxKept = 1 << 20

// Host is a running fake host.
type Host struct {
	ln   net.Listener
	boot string

	mu       sync.Mutex
	conn     net.Conn
	received []byte
	conns    int
	changed  chan struct{}
	wg       sync.WaitGroup
}

// Start listens on a free loopback TCP port.
func Start(ctx context.Context, bootText string) (*Host, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("solhost: listen: %w", err)
	}
	h := &Host{ln: ln, boot: bootText, changed: make(chan struct{})}
	h.wg.Add(1)
	go h.accept()
	return h, nil
}

// Addr is the host:port the BMC should connect to.
func (h *Host) Addr() string { return h.ln.Addr().String() }

func (h *Host) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.conn != nil {
			_ = h.conn.Close()
		}
		h.conn = c
		h.conns++
		h.signalLocked()
		h.mu.Unlock()
		h.wg.Add(1)
		go h.serve(c)
	}
}

func (h *Host) signalLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *Host) serve(c net.Conn) {
	defer h.wg.Done()
	defer c.Close()
	if _, err := c.Write([]byte(h.boot)); err != nil {
		return
	}
	buf := make([]byte, 1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			h.mu.Lock()
			if len(h.received)+n <= maxKept {
				h.received = append(h.received, buf[:n]...)
			}
			h.signalLocked()
			h.mu.Unlock()
			var echo []byte
			for _, b := range buf[:n] {
				echo = append(echo, b)
				if b == '\r' {
					echo = append(echo, '\n')
				}
			}
			if _, werr := c.Write(echo); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Print writes text to the serial line, as the host's software would.
func (h *Host) Print(text string) error {
	h.mu.Lock()
	c := h.conn
	h.mu.Unlock()
	if c == nil {
		return errors.New("solhost: no BMC connected")
	}
	_, err := c.Write([]byte(text))
	return err
}

// Received returns a copy of every byte the host received.
func (h *Host) Received() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.received...)
}

// Reset forgets the received bytes.
func (h *Host) Reset() {
	h.mu.Lock()
	h.received = nil
	h.mu.Unlock()
}

// Connections returns how many times a BMC connected.
func (h *Host) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns
}

// Changed returns a channel closed at the next connection or received data.
func (h *Host) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// Close stops the host and drops the connection.
func (h *Host) Close() error {
	err := h.ln.Close()
	h.mu.Lock()
	if h.conn != nil {
		_ = h.conn.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
	return err
}
