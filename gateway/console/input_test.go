package console

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// TestInputPipeRecordsBeforeSend: bytes reach send only after the chunk
// holding them was appended, in order; when an append fails nothing of it
// is sent and the pipe refuses further input.
func TestInputPipeRecordsBeforeSend(t *testing.T) {
	var mu sync.Mutex
	var recorded, sent []byte
	fail := false
	block := make(chan struct{})
	appendRec := func(ctx context.Context, r audit.Record) error {
		<-block
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("disk full")
		}
		fr, err := audit.ChunkFrames(r)
		if err != nil {
			return err
		}
		for _, f := range fr {
			recorded = append(recorded, f.Data...)
		}
		return nil
	}
	failed := make(chan int, 1)
	ip := newInputPipe(appendRec, audit.Record{Code: audit.CodeConsoleInput, Fields: map[string]string{audit.FieldConsole: "c-1"}},
		func(p []byte) {
			mu.Lock()
			defer mu.Unlock()
			if len(sent)+len(p) > len(recorded) {
				t.Errorf("sent %q before it was recorded (recorded %q)", append(sent, p...), recorded)
			}
			sent = append(sent, p...)
		}, func(err error, n int) { failed <- n })
	for _, s := range []string{"ec", "ho", " a\r"} {
		if err := ip.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	close(block) // the audit log answers from now on
	if !ip.Close() {
		t.Fatal("Close reports a failure")
	}
	if string(sent) != "echo a\r" || string(recorded) != "echo a\r" {
		t.Fatalf("sent %q, recorded %q", sent, recorded)
	}
	if err := ip.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close accepted")
	}

	// A failing audit log: nothing is sent.
	mu.Lock()
	fail, sent = true, nil
	mu.Unlock()
	ip = newInputPipe(appendRec, audit.Record{Code: audit.CodeConsoleInput}, func(p []byte) {
		t.Errorf("sent %q although it was not recorded", p)
	}, func(err error, n int) { failed <- n })
	if err := ip.Write([]byte("rm -rf /tmp/x\r")); err != nil {
		t.Fatal(err)
	}
	if n := <-failed; n != len("rm -rf /tmp/x\r") {
		t.Fatalf("onFail reported %d bytes", n)
	}
	if err := ip.Write([]byte("more")); !errors.Is(err, errRecording) {
		t.Fatalf("Write after a failure: %v", err)
	}
	if ip.Close() {
		t.Fatal("Close reports success after a failure")
	}
}

// TestInputPipeBounded: input waiting for a slow audit log is bounded.
func TestInputPipeBounded(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	ip := newInputPipe(func(ctx context.Context, r audit.Record) error { <-block; return nil },
		audit.Record{Code: audit.CodeConsoleInput}, func([]byte) {}, func(error, int) {})
	chunk := make([]byte, 1024)
	var err error
	for range 64 {
		if err = ip.Write(chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, errInputBehind) {
		t.Fatalf("64 KiB waiting for the audit log: %v", err)
	}
}
