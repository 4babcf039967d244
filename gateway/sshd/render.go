package sshd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// clean makes text from users or BMCs safe for a terminal: control
// characters and escape sequences are shown escaped, never raw.
func clean(s string) string { return audit.Sanitize(s) }

// quoted shows user-typed text in a message: escaped once, in double
// quotes (never %q over escaped text, which escapes it twice).
func quoted(s string) string { return `"` + clean(s) + `"` }

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = clean(k) + "=" + clean(l[k])
	}
	return strings.Join(parts, ",")
}

// table writes aligned columns; every cell is cleaned.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = clean(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() { _ = t.tw.Flush() }

// printResult prints one line for one BMC: successes to stdout, denials and
// errors to stderr.
func printResult(e *env, r service.Result) {
	switch {
	case r.OK:
		fmt.Fprintf(e.out, "%-16s %s\n", r.BMC, clean(valueText(r.Value)))
	case r.Denied:
		msg := r.Message
		if !strings.HasPrefix(msg, "denied") {
			msg = "denied: " + msg
		}
		fmt.Fprintf(e.errw, "%-16s %s\n", r.BMC, audit.DisplaySafe(msg))
	default:
		fmt.Fprintf(e.errw, "%-16s error: %s\n", r.BMC, audit.DisplaySafe(r.Message))
	}
}

func valueText(v any) string {
	switch x := v.(type) {
	case ipmi.PowerState:
		return "power " + string(x)
	case service.PowerDone:
		return x.String()
	case nil:
		return "ok"
	}
	return fmt.Sprint(v)
}

// jsonResult is the machine form of one BMC's result.
type jsonResult struct {
	BMC        string  `json:"bmc"`
	OK         bool    `json:"ok"`
	Denied     bool    `json:"denied,omitempty"`
	Error      string  `json:"error,omitempty"`
	Power      string  `json:"power,omitempty"`
	Result     any     `json:"result,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

func toJSON(r service.Result) jsonResult {
	j := jsonResult{BMC: r.BMC, OK: r.OK, Denied: r.Denied, DurationMS: float64(r.Duration.Microseconds()) / 1000}
	if !r.OK {
		j.Error = r.Message
		return j
	}
	switch x := r.Value.(type) {
	case ipmi.PowerState:
		j.Power = string(x)
	case service.PowerDone:
		j.Result = x.String()
	default:
		j.Result = x
	}
	return j
}

// writeJSON writes v as one indented JSON document. encoding/json escapes
// C0 control characters; jsonTerminalSafe escapes the C1 controls and
// format characters (bidi overrides, ...) it leaves raw, so BMC-supplied
// text cannot reach the terminal raw.
func (e *env) writeJSON(v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		_, err = e.out.Write(append(jsonTerminalSafe(b), '\n'))
	}
	if err != nil {
		fmt.Fprintln(e.errw, "bmcgate: could not write output")
		return exitFailed
	}
	return exitOK
}

// jsonTerminalSafe rewrites C1 controls and format characters in JSON text
// as \u escapes; the document means the same. Outside strings JSON text is
// ASCII, so every such character is inside a string.
func jsonTerminalSafe(b []byte) []byte {
	unsafe := func(r rune) bool { return r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r) }
	if bytes.IndexFunc(b, unsafe) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if !unsafe(r) {
			out = append(out, b[:n]...)
		} else if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out
}

func printInfo(w io.Writer, v service.InfoView) {
	fmt.Fprintf(w, "name:          %s\naddress:       %s\nlabels:        %s\n", clean(v.Name), clean(v.Address), labelString(v.Labels))
	if d := v.Device; d != nil {
		fmt.Fprintf(w, "manufacturer:  %s (%d)\nproduct id:    %d\ndevice id:     %d rev %d\n", clean(d.Manufacturer), d.ManufacturerID, d.ProductID, d.DeviceID, d.DeviceRevision)
		fmt.Fprintf(w, "firmware:      %s\nipmi version:  %s\nguid:          %s\n", clean(d.FirmwareVersion), clean(d.IPMIVersion), clean(d.GUID))
		fmt.Fprintf(w, "session:       cipher suite %d, privilege %s\n", d.CipherSuite, clean(d.Privilege))
	}
	if y := v.System; y != nil {
		fmt.Fprintf(w, "manufacturer:  %s\nmodel:         %s\nserial:        %s\n", clean(y.Manufacturer), clean(y.Model), clean(y.SerialNumber))
		fmt.Fprintf(w, "bios:          %s\nfirmware:      %s\nhealth:        %s\n", clean(y.BIOSVersion), clean(y.FirmwareVersion), clean(y.Health))
		fmt.Fprintf(w, "guid:          %s\nredfish:       %s (system %s)\n", clean(y.GUID), clean(y.RedfishVersion), clean(y.SystemID))
	}
}

func printSensors(w io.Writer, v any) {
	sensors, _ := v.([]service.Sensor)
	t := newTable(w)
	t.row("SENSOR", "TYPE", "VALUE", "UNIT", "STATUS", "THRESHOLDS (NC/CR/FATAL)")
	for _, s := range sensors {
		t.row(s.Name, s.Type, s.Value, s.Unit, s.Status, s.Thresholds.String())
	}
	t.flush()
}

func printSEL(w io.Writer, v any) {
	entries, _ := v.([]service.LogEntry)
	if len(entries) == 0 {
		fmt.Fprintln(w, "event log is empty")
		return
	}
	t := newTable(w)
	t.row("ID", "TIME", "LOG", "SEVERITY", "SENSOR", "MESSAGE", "DIRECTION")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, s := range entries {
		ts := "-"
		if !s.Time.IsZero() {
			ts = s.Time.UTC().Format(time.RFC3339)
		}
		t.row(s.ID, ts, s.Log, dash(s.Severity), dash(s.Sensor), s.Message, dash(s.Direction))
	}
	t.flush()
}
