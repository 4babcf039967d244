package sshd

import (
	"io"
	"testing"
	"time"
)

// TestKeysHandsOverPending: bytes the prompt left unread come first from
// Keys and are no longer held by the session; later input arrives on the
// channel, and the end of input closes closed.
func TestKeysHandsOverPending(t *testing.T) {
	pr, pw := io.Pipe()
	in := newSessionInput(pr)
	r := ctxReader{t.Context(), in}
	go func() { _, _ = pw.Write([]byte("console x\rtyped ahead")) }()

	buf := make([]byte, len("console x\r"))
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "console x\r" {
		t.Fatalf("prompt read %q, %v", buf[:n], err)
	}
	pending, keys, closed := r.Keys()
	if string(pending) != "typed ahead" {
		t.Fatalf("pending %q, want %q", pending, "typed ahead")
	}
	if again, _, _ := r.Keys(); len(again) != 0 {
		t.Fatalf("pending handed over twice: %q", again)
	}

	go func() { _, _ = pw.Write([]byte("more")) }()
	select {
	case p := <-keys:
		if string(p) != "more" {
			t.Fatalf("chunk %q, want %q", p, "more")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no chunk on keys")
	}

	_ = pw.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("closed not closed after the end of input")
	}
	if n, err := r.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the end: %d, %v", n, err)
	}
}
