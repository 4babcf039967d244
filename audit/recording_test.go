package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFramesRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	frames := []Frame{
		{t0, []byte("a")},
		{t0.Add(1500 * time.Microsecond), []byte{}},
		{t0.Add(3 * time.Second), bytes.Repeat([]byte{0, 0xff, '\x1b'}, 300)},
	}
	var data []byte
	for _, f := range frames {
		data = AppendFrame(data, t0, f.Time, f.Data)
	}
	got, err := DecodeFrames(t0, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("%d frames", len(got))
	}
	for i := range got {
		if !got[i].Time.Equal(frames[i].Time) || !bytes.Equal(got[i].Data, frames[i].Data) {
			t.Fatalf("frame %d: %+v", i, got[i])
		}
	}
	for _, bad := range [][]byte{{0x80}, {1, 5, 'a'}, {1}} {
		if _, err := DecodeFrames(t0, bad); !errors.Is(err, ErrBadRecording) {
			t.Fatalf("%x: %v", bad, err)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"abc", 3}, {"a\xc3", 1}, {"a\xc3\xa9", 3}, {"\xe2\x82", 0}, {"\xe2\x82\xac", 3}, {"\xff", 1},
	}
	for _, tt := range tests {
		if got := validPrefix([]byte(tt.in)); got != tt.want {
			t.Errorf("validPrefix(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestLoadRecordingFromStore stores a small console session and loads it
// by console id and by front-door session id.
func TestLoadRecordingFromStore(t *testing.T) {
	s := openStore(t, newPath(t), Options{})
	ctx := context.Background()
	t0 := time.Now().UTC()
	// Commits a second apart from t0 on: every frame lies between the
	// attach and the detach however fast the appends run.
	var commits atomic.Int64
	s.now = func() time.Time { return t0.Add(time.Duration(commits.Add(1)-1) * time.Second) }
	add := func(r Record) {
		t.Helper()
		if _, err := s.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	chunk := func(code, session, actor string, parts ...string) Record {
		var d []byte
		for i, p := range parts {
			d = AppendFrame(d, t0, t0.Add(time.Duration(i)*time.Millisecond), []byte(p))
		}
		return Record{Code: code, Actor: actor, Session: session, Target: "n1", Outcome: OutcomeOK, Data: d,
			Fields: map[string]string{FieldConsole: "c-1", FieldT0: t0.Format(time.RFC3339Nano)}}
	}
	add(Record{Code: CodeConsoleAttach, Actor: "bob", Session: "s-1", Target: "n1", Fields: map[string]string{FieldConsole: "c-1"}})
	add(chunk(CodeConsoleOutput, "", "", "login: ", "root\r\n"))
	add(chunk(CodeConsoleInput, "s-1", "bob", "root\r"))
	add(Record{Code: CodeConsoleDetach, Actor: "bob", Session: "s-1", Target: "n1", Fields: map[string]string{FieldConsole: "c-1"}})
	for _, id := range []string{"c-1", "s-1"} {
		rec, err := LoadRecording(ctx, s.Search, id)
		if err != nil {
			t.Fatal(err)
		}
		if string(rec.Output()) != "login: root\r\n" || rec.Console != "c-1" || rec.BMC != "n1" {
			t.Fatalf("%s: %+v", id, rec)
		}
		var b strings.Builder
		if err := rec.WriteAsciicast(&b, 0, 0); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"i","root\r"`) {
			t.Fatalf("asciicast lacks input: %s", b.String())
		}
		var out bytes.Buffer
		if err := rec.Replay(ctx, &out, 0); err != nil || out.String() != "login: root\r\n" {
			t.Fatalf("replay %q %v", out.String(), err)
		}
	}
	if _, err := LoadRecording(ctx, s.Search, "nothing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}
