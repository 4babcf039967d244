package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// maxReplayGap caps the pause between two frames on replay, so an idle
// hour does not replay as an idle hour.
const maxReplayGap = 2 * time.Second

// Replay writes the recording's output to w with its original timing
// divided by speed (speed <= 0 means as fast as possible). Input is not
// written: a terminal shows what the console echoed.
func (r *Recording) Replay(ctx context.Context, w io.Writer, speed float64) error {
	var last time.Time
	for _, e := range r.Events {
		if e.Input {
			continue
		}
		if speed > 0 && !last.IsZero() {
			gap := min(e.Time.Sub(last), maxReplayGap)
			if d := time.Duration(float64(gap) / speed); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		last = e.Time
		if _, err := w.Write(e.Data); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	return nil
}

// Output returns the recording's output bytes concatenated.
func (r *Recording) Output() []byte {
	var b []byte
	for _, e := range r.Events {
		if !e.Input {
			b = append(b, e.Data...)
		}
	}
	return b
}

// WriteAsciicast writes the recording as asciicast v2 (the asciinema
// format): a header line, then one [time, "o"|"i", data] line per frame.
// Bytes that are not valid UTF-8 are kept together with the frames that
// follow until they form valid text, as a terminal would decode them.
func (r *Recording) WriteAsciicast(w io.Writer, width, height int) error {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	hdr := map[string]any{"version": 2, "width": width, "height": height,
		"timestamp": r.Start.Unix(), "title": "bmcgate console " + r.BMC + " " + r.Console}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(hdr); err != nil {
		return fmt.Errorf("asciicast: %w", err)
	}
	pending := map[bool][]byte{}
	for _, e := range r.Events {
		buf := append(pending[e.Input], e.Data...)
		n := validPrefix(buf)
		pending[e.Input] = append([]byte(nil), buf[n:]...)
		if n == 0 {
			continue
		}
		kind := "o"
		if e.Input {
			kind = "i"
		}
		t := max(e.Time.Sub(r.Start).Seconds(), 0)
		if err := enc.Encode([]any{json.Number(fmt.Sprintf("%.6f", t)), kind, string(buf[:n])}); err != nil {
			return fmt.Errorf("asciicast: %w", err)
		}
	}
	return nil
}

// validPrefix returns the length of the longest prefix of b that does not
// end inside an incomplete UTF-8 sequence (invalid bytes are let through,
// they are encoded as U+FFFD).
func validPrefix(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
