package webui

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// copyBuffers are the body copy buffers of all proxies: without a pool the
// reverse proxy allocates (and clears) 32 KiB per request.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bufferPool adapts copyBuffers to httputil.BufferPool.
type bufferPool struct{}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// countingWriter records the status and body bytes of a response. It
// unwraps for http.ResponseController (flush, hijack for websockets).
type countingWriter struct {
	http.ResponseWriter
	ctx  context.Context // the request's; ends a hijacked connection
	code int
	n    int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 || c.code < 200 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Hijack hands the browser's connection over for a websocket and ties it
// to the request's context. When the context ends (the user's session
// ended, access was withdrawn) the browser side is closed too: without
// this, a BMC that closed its side first leaves the reverse proxy waiting
// for the browser to hang up, with the websocket's end unrecorded.
func (c *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if c.ctx != nil {
		context.AfterFunc(c.ctx, func() { _ = conn.Close() })
	}
	return conn, brw, nil
}

func (c *countingWriter) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

// countingReader counts request body bytes.
type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.r == nil {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error {
	if c.r == nil {
		return nil
	}
	return c.r.Close()
}
