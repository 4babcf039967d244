package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeLayout is the time format of FormatText: UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatText renders r as one line for a terminal, e.g.
//
//	2026-11-24T16:41:05.123Z #42 authz.decision ssh alice@127.0.0.1:5555 power.on node01 deny: no rule (12ms) session=s1
//
// in the order time, #seq, code, door, actor@source, action, target,
// outcome: reason, (duration), session=..., fields as key=value in key order
// and the size of Data; empty parts are left out. Every field is escaped for
// the terminal (stored records already are; backslashes are not doubled
// again), so the line never contains a control or bidi character.
func FormatText(r Record) string {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format(timeLayout))
	b.WriteString(" #")
	b.WriteString(strconv.FormatUint(r.Seq, 10))
	word := func(s string) {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(displaySafe(s))
		}
	}
	word(r.Code)
	word(r.Door)
	switch {
	case r.Actor != "" && r.Source != "":
		word(r.Actor + "@" + r.Source)
	case r.Source != "":
		word("@" + r.Source)
	default:
		word(r.Actor)
	}
	word(r.Action)
	word(r.Target)
	switch {
	case r.Outcome != "" && r.Reason != "":
		word(r.Outcome + ": " + r.Reason)
	default:
		word(r.Outcome)
		word(r.Reason)
	}
	if r.Duration != 0 {
		word("(" + roundDuration(r.Duration).String() + ")")
	}
	if r.Session != "" {
		word("session=" + r.Session)
	}
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		word(k + "=" + r.Fields[k])
	}
	if len(r.Data) > 0 {
		word(fmt.Sprintf("data=%dB", len(r.Data)))
	}
	return b.String()
}

// roundDuration keeps three significant sub-unit digits at most.
func roundDuration(d time.Duration) time.Duration {
	switch a := max(d, -d); {
	case a >= time.Second:
		return d.Round(time.Millisecond)
	case a >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case a >= time.Microsecond:
		return d.Round(time.Microsecond / 100)
	}
	return d
}

// WriteJSONLine writes r as one JSON object followed by "\n", with one
// Write call. String fields are escaped for the terminal like FormatText
// (no change for stored records); Data is base64.
func WriteJSONLine(w io.Writer, r Record) error {
	for _, p := range []*string{&r.Code, &r.Actor, &r.Door, &r.Source, &r.Session,
		&r.Target, &r.Action, &r.Outcome, &r.Reason, &r.Prev, &r.Hash} {
		*p = displaySafe(*p)
	}
	if len(r.Fields) > 0 {
		f := make(map[string]string, len(r.Fields))
		for k, v := range r.Fields {
			f[displaySafe(k)] = displaySafe(v)
		}
		r.Fields = f
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("audit: encode record #%d: %w", r.Seq, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("audit: write record #%d: %w", r.Seq, err)
	}
	return nil
}
