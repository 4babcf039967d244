package audit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Console recordings are stored as ordinary, hash-chained records
// (CodeConsoleOutput and CodeConsoleInput) whose Data holds frames: for each
// write, the microseconds since the chunk's start time (Fields["t0"]) and
// the bytes, both length-prefixed with unsigned varints. Output chunks are
// written once per console; input chunks once per writer and carry the
// writer's front-door Session. Every chunk names its console session in
// Fields["console"].

// Recording field names.
const (
	FieldConsole = "console" // console session id
	FieldT0      = "t0"      // chunk start time, RFC 3339 with nanoseconds
)

// ErrBadRecording reports chunk data that does not decode.
var ErrBadRecording = errors.New("audit: malformed console recording")

// Frame is one timed piece of console traffic.
type Frame struct {
	Time time.Time
	Data []byte
}

// AppendFrame encodes p, written at t, into a chunk that started at t0.
func AppendFrame(dst []byte, t0, t time.Time, p []byte) []byte {
	us := max(t.Sub(t0).Microseconds(), 0)
	dst = binary.AppendUvarint(dst, uint64(us))
	dst = binary.AppendUvarint(dst, uint64(len(p)))
	return append(dst, p...)
}

// FrameOverhead bounds the bytes AppendFrame adds besides the data.
const FrameOverhead = 2 * binary.MaxVarintLen64

// DecodeFrames decodes a chunk's data.
func DecodeFrames(t0 time.Time, data []byte) ([]Frame, error) {
	var out []Frame
	for len(data) > 0 {
		us, n := binary.Uvarint(data)
		if n <= 0 {
			return nil, ErrBadRecording
		}
		data = data[n:]
		l, n := binary.Uvarint(data)
		if n <= 0 || l > uint64(len(data)-n) {
			return nil, ErrBadRecording
		}
		data = data[n:]
		out = append(out, Frame{Time: t0.Add(time.Duration(us) * time.Microsecond), Data: data[:l:l]})
		data = data[l:]
	}
	return out, nil
}

// ChunkFrames decodes the frames of a console chunk record.
func ChunkFrames(r Record) ([]Frame, error) {
	t0, err := time.Parse(time.RFC3339Nano, r.Fields[FieldT0])
	if err != nil {
		return nil, fmt.Errorf("%w: chunk #%d has no start time", ErrBadRecording, r.Seq)
	}
	fr, err := DecodeFrames(t0, r.Data)
	if err != nil {
		return nil, fmt.Errorf("chunk #%d: %w", r.Seq, err)
	}
	return fr, nil
}

// Event is one frame of a recording, with its direction.
type Event struct {
	Time   time.Time
	Input  bool   // typed by a writer (false: console output)
	Actor  string // the writer, for input
	Data   []byte
	Record uint64 // the chunk record's Seq
}

// Recording is one console session's traffic in time order.
type Recording struct {
	Console string // console session id
	BMC     string
	Start   time.Time
	End     time.Time
	Events  []Event
}

// SearchFunc runs a search (Store.Search, or one that checks the caller's
// permission first).
type SearchFunc func(ctx context.Context, q Query, fn func(Record) error) error

// LoadRecording collects a recording. id is either a console session id
// (all output of that console and everyone's input) or a front-door session
// id (what that session's user saw while attached, and what they typed).
func LoadRecording(ctx context.Context, search SearchFunc, id string) (*Recording, error) {
	rec := &Recording{}
	var windows [][2]time.Time // attach..detach of a front-door session
	var consoles = map[string]bool{}
	byConsole := func(r Record) bool { return r.Fields[FieldConsole] == id }
	bySession := func(r Record) bool { return r.Session == id }
	for _, code := range []string{CodeConsoleAttach, CodeConsoleDetach} {
		err := search(ctx, Query{Code: code, Limit: MaxSearchLimit}, func(r Record) error {
			switch {
			case byConsole(r):
				consoles[id] = true
				rec.BMC = r.Target
			case bySession(r):
				consoles[r.Fields[FieldConsole]] = true
				rec.BMC = r.Target
				if code == CodeConsoleAttach {
					windows = append(windows, [2]time.Time{r.Time, {}})
				} else {
					for i := range windows {
						if windows[i][1].IsZero() {
							windows[i][1] = r.Time
							break
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(consoles) == 0 {
		return nil, ErrNotFound
	}
	session := !consoles[id] || len(windows) > 0
	if !session {
		rec.Console = id
	}
	inWindow := func(t time.Time) bool {
		if !session {
			return true
		}
		for _, w := range windows {
			if !t.Before(w[0].Add(-time.Second)) && (w[1].IsZero() || !t.After(w[1])) {
				return true
			}
		}
		return false
	}
	for _, code := range []string{CodeConsoleOutput, CodeConsoleInput} {
		err := search(ctx, Query{Code: code, Limit: MaxSearchLimit}, func(r Record) error {
			if !consoles[r.Fields[FieldConsole]] {
				return nil
			}
			if session && code == CodeConsoleInput && r.Session != id {
				return nil
			}
			if code == CodeConsoleInput && r.Outcome != OutcomeOK {
				return nil // typed but never delivered: not part of what the console got
			}
			if rec.Console == "" {
				rec.Console = r.Fields[FieldConsole]
			}
			fr, err := ChunkFrames(r)
			if err != nil {
				return err
			}
			for _, f := range fr {
				if inWindow(f.Time) {
					rec.Events = append(rec.Events, Event{Time: f.Time, Input: code == CodeConsoleInput, Actor: r.Actor, Data: f.Data, Record: r.Seq})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(rec.Events, func(i, j int) bool { return rec.Events[i].Time.Before(rec.Events[j].Time) })
	if n := len(rec.Events); n > 0 {
		rec.Start, rec.End = rec.Events[0].Time, rec.Events[n-1].Time
	}
	if session && len(windows) > 0 {
		rec.Start = windows[0][0]
	}
	return rec, nil
}
