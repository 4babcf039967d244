package sshd

import (
	"context"
	"io"
	"sync"

	"github.com/bmcgate/bmcgate/gateway/console"
)

// sessionInput reads a session channel in one goroutine and hands the bytes
// to one reader at a time. Readers take turns (the prompt, then a console,
// then the prompt again) without losing bytes to a read the previous reader
// left pending: a reader whose context ends returns at once and consumes
// nothing.
type sessionInput struct {
	data chan []byte
	done chan struct{}
	err  error // set before done is closed

	mu   sync.Mutex // one reader at a time
	rest []byte
}

func newSessionInput(src io.Reader) *sessionInput {
	in := &sessionInput{data: make(chan []byte), done: make(chan struct{})}
	go func() {
		// One 1 KiB read buffer for the session's life (keystrokes; a paste
		// arrives in pieces); each chunk handed on is a copy of its own
		// size, so a session holds 1 KiB, not a buffer per pending read.
		buf := make([]byte, 1024)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				in.data <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				in.err = err
				close(in.done)
				return
			}
		}
	}()
	return in
}

// read reads into p, returning io.EOF without consuming anything once ctx
// ends.
func (in *sessionInput) read(ctx context.Context, p []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.rest) == 0 {
		select {
		case b := <-in.data:
			in.rest = b
		case <-in.done:
			return 0, in.err
		case <-ctx.Done():
			return 0, io.EOF
		}
	}
	n := copy(p, in.rest)
	in.rest = in.rest[n:]
	return n, nil
}

// ctxReader is a sessionInput bound to one reader's lifetime.
type ctxReader struct {
	ctx context.Context
	in  *sessionInput
}

func (r ctxReader) Read(p []byte) (int, error) { return r.in.read(r.ctx, p) }

var _ console.KeySource = ctxReader{}

// Keys hands the session's input over as chunks (console.KeySource), so a
// console needs no reading goroutine of its own: first the bytes an earlier
// reader left (taken from the session, which no longer holds them), then
// the session's chunks as they arrive.
func (r ctxReader) Keys() (pending []byte, keys <-chan []byte, closed <-chan struct{}) {
	r.in.mu.Lock()
	defer r.in.mu.Unlock()
	pending, r.in.rest = r.in.rest, nil
	return pending, r.in.data, r.in.done
}

// input returns the session's shared input, starting it on first use.
func (se *session) input() *sessionInput {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.in == nil {
		se.in = newSessionInput(se.ch)
	}
	return se.in
}
