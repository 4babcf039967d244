package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendValidation(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	tests := []struct {
		name string
		r    Record
		want error
	}{
		{"empty code", Record{}, ErrInvalidRecord},
		{"upper-case code", Record{Code: "Auth.Login"}, ErrInvalidRecord},
		{"code with escape", Record{Code: "auth.\x1b[2J"}, ErrInvalidRecord},
		{"code with space", Record{Code: "auth login"}, ErrInvalidRecord},
		{"leading dot", Record{Code: ".auth"}, ErrInvalidRecord},
		{"double dot", Record{Code: "auth..login"}, ErrInvalidRecord},
		{"long code", Record{Code: strings.Repeat("a", 65)}, ErrInvalidRecord},
		{"data too large", Record{Code: CodeCmdRun, Data: make([]byte, MaxDataSize+1)}, ErrInvalidRecord},
		{"data at the limit", Record{Code: CodeCmdRun, Data: make([]byte, MaxDataSize)}, nil},
		{"single word code", Record{Code: "custom_event-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Head()
			got, err := s.Append(context.Background(), tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Append = %v, want %v", err, tt.want)
			}
			after, _ := s.Head()
			if err != nil && (after != before || got.Seq != 0) {
				t.Fatalf("refused record changed the head (%d -> %d)", before, after)
			}
			if err != nil && strings.ContainsFunc(err.Error(), unsafeRune) {
				t.Fatalf("error is not escaped: %q", err)
			}
		})
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 2 {
		t.Fatalf("Verify = %+v", rep)
	}
}

func TestAppendSanitizesAndBounds(t *testing.T) {
	s, _ := newStore(t, Options{NoSync: true})
	fields := map[string]string{"evil\x1b]52;c;x\x07": "v\u202e"}
	for i := range 100 {
		fields[fmt.Sprintf("k%03d", i)] = "v"
	}
	in := Record{Code: CodeCmdRun, Seq: 99, Prev: "x", Hash: "y",
		Actor: "root\x1b[2J", Door: "ssh\n", Source: "1.2.3.4\r", Session: "\u2066s\u2069",
		Target: "node\u202e10", Action: "power\x00.on", Outcome: "ok\x7f", Reason: strings.Repeat("é", 3000),
		Fields: fields, Data: []byte("\x1b[2J raw console")}
	got := mustAppend(t, s, in)
	want := map[string]string{
		"Actor": `root\x1b[2J`, "Door": `ssh\n`, "Source": `1.2.3.4\r`, "Session": `\u2066s\u2069`,
		"Target": `node\u202e10`, "Action": `power\x00.on`, "Outcome": `ok\x7f`,
	}
	gotFields := map[string]string{"Actor": got.Actor, "Door": got.Door, "Source": got.Source, "Session": got.Session,
		"Target": got.Target, "Action": got.Action, "Outcome": got.Outcome}
	for k, w := range want {
		if gotFields[k] != w {
			t.Errorf("%s = %q, want %q", k, gotFields[k], w)
		}
	}
	if got.Seq != 1 || got.Prev != zeroHashHex || len(got.Hash) != 64 {
		t.Errorf("caller's Seq/Prev/Hash were not replaced: %d %s %s", got.Seq, got.Prev, got.Hash)
	}
	if len(got.Reason) > MaxFieldLen || !strings.HasSuffix(got.Reason, truncMark) {
		t.Errorf("Reason not truncated: %d bytes", len(got.Reason))
	}
	if len(got.Fields) != MaxFields || got.Fields[fieldsDroppedKey] != "38 more fields dropped" {
		t.Errorf("Fields: %d entries, marker %q", len(got.Fields), got.Fields[fieldsDroppedKey])
	}
	if got.Fields[`evil\x1b]52;c;x\x07`] != `v\u202e` {
		t.Errorf("field key/value not escaped: %v", got.Fields)
	}
	if string(got.Data) != string(in.Data) {
		t.Errorf("Data was altered: %q", got.Data)
	}
	stored, err := s.Get(context.Background(), 1)
	if err != nil || !equalRecords(stored, got) {
		t.Fatalf("Get = %+v, %v", stored, err)
	}
}

func TestAppendContext(t *testing.T) {
	s, _ := newStore(t, Options{QueueSize: 1, QueueWait: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, Record{Code: CodeCmdRun}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with cancelled ctx = %v", err)
	}

	// Hold the writer in a commit: one record in flight, one queued.
	gate := holdFirstCommit(s)
	var wg sync.WaitGroup
	goAppend(t, &wg, s, Record{Code: CodeCmdRun, Reason: "first"})
	<-gate.started
	queuedCtx, cancelQueued := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, err := s.Append(queuedCtx, Record{Code: CodeCmdRun, Reason: "abandoned"})
		queued <- err
	}()
	waitFor(t, func() bool { return len(s.reqs) == 1 })

	// Queue full: a context that cannot end waits QueueWait, one that can
	// waits until it ends.
	if _, err := s.Append(context.Background(), Record{Code: CodeCmdRun}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Append to a full queue without deadline = %v", err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := s.Append(short, Record{Code: CodeCmdRun}); !errors.Is(err, ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append to a full queue with deadline = %v", err)
	}

	// A caller that gives up before the writer takes its record is told
	// so, and the record is never stored.
	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Append = %v", err)
	}
	close(gate.release)
	wg.Wait()
	patient, cancelPatient := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelPatient()
	last, err := s.Append(patient, Record{Code: CodeCmdRun, Reason: "after"})
	if err != nil || last.Seq != 2 {
		t.Fatalf("Append after abandoned append = #%d, %v; want #2", last.Seq, err)
	}
	if rep := mustVerify(t, s); !rep.OK || rep.Records != 2 {
		t.Fatalf("Verify = %+v", rep)
	}
}

// A caller whose context ends after the writer took its record gets the
// real result of the commit.
func TestAppendContextAfterTaken(t *testing.T) {
	s, _ := newStore(t, Options{})
	gate := holdFirstCommit(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, Record{Code: CodeCmdRun})
		done <- err
	}()
	<-gate.started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Append returned %v while its commit was in progress", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatalf("Append = %v, want the commit's success", err)
	}
	if seq, _ := s.Head(); seq != 1 {
		t.Fatalf("Head = %d", seq)
	}
}
