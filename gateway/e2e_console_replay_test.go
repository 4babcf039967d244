package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/offline"
)

// TestE2EConsoleReplayAndExport: an auditor replays a console session over
// SSH byte for byte, exports it as asciicast v2, and the same works offline.
func TestE2EConsoleReplayAndExport(t *testing.T) {
	h, _ := consoleHarness(t, "")
	c := startPTY(t, h, "bob", "console", "node01")
	c.waitFor("login: ")
	c.send("root\r")
	c.waitFor("root\r\n")
	c.send("é€\r") // multi-byte UTF-8
	c.waitFor("é€\r\n")
	c.send("~.")
	c.wait()
	att := h.waitRecord(t, audit.Query{Code: audit.CodeConsoleAttach, Actor: "bob"}, nil)
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleDetach, Actor: "bob"}, nil)
	want := "\r\nnode01 login: root\r\né€\r\n"
	// The output recorder flushes on its own clock; wait for the last chunk.
	h.waitRecord(t, audit.Query{Code: audit.CodeConsoleOutput}, func(r audit.Record) bool {
		return strings.HasSuffix(string(r.Data), "é€\r\n")
	})

	out, errOut, code := h.ssh("aud", nil, "audit", "replay", att.Session, "--speed", "0")
	if code != 0 || out != want {
		t.Fatalf("replay: exit %d, stderr %q\n got %q\nwant %q", code, errOut, out, want)
	}
	if _, errOut, code := h.ssh("bob", nil, "audit", "replay", att.Session); code == 0 {
		t.Fatalf("a user without audit.read replayed a recording: %q", errOut)
	}
	if _, errOut, code := h.ssh("aud", nil, "audit", "replay", "nosuch"); code != 1 || !strings.Contains(errOut, "no console recording") {
		t.Fatalf("unknown session: %d %q", code, errOut)
	}
	for _, speed := range []string{"NaN", "Inf", "-1", "1001"} {
		if _, errOut, code := h.ssh("aud", nil, "audit", "replay", att.Session, "--speed", speed); code != 2 || !strings.Contains(errOut, "--speed must be a number from 0") {
			t.Fatalf("--speed %s: exit %d %q", speed, code, errOut)
		}
	}

	out, errOut, code = h.ssh("aud", nil, "audit", "export", att.Fields[audit.FieldConsole], "--format", "asciicast")
	if code != 0 {
		t.Fatalf("export: %d %q", code, errOut)
	}
	checkAsciicast(t, out, want, "root\ré€\r")

	dataDir := h.g.cfg.DataDir
	h.stop()
	rec, err := offline.ConsoleRecording(context.Background(), dataDir, att.Session)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Output()) != want {
		t.Fatalf("offline replay %q", rec.Output())
	}
}

// checkAsciicast parses an asciicast v2 file and compares its streams.
func checkAsciicast(t *testing.T, cast, wantOut, wantIn string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(cast))
	if !sc.Scan() {
		t.Fatal("empty asciicast")
	}
	var hdr struct {
		Version int `json:"version"`
		Width   int `json:"width"`
		Height  int `json:"height"`
	}
	if err := json.Unmarshal(sc.Bytes(), &hdr); err != nil || hdr.Version != 2 || hdr.Width == 0 || hdr.Height == 0 {
		t.Fatalf("header %q: %v", sc.Text(), err)
	}
	var out, in strings.Builder
	last := -1.0
	for sc.Scan() {
		var ev []any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("event %q: %v", sc.Text(), err)
		}
		ts, _ := ev[0].(float64)
		if ts < last {
			t.Fatalf("time goes back at %q", sc.Text())
		}
		last = ts
		switch ev[1] {
		case "o":
			out.WriteString(ev[2].(string))
		case "i":
			in.WriteString(ev[2].(string))
		default:
			t.Fatalf("event type %v", ev[1])
		}
	}
	if out.String() != wantOut || in.String() != wantIn {
		t.Fatalf("asciicast output %q input %q; want %q and %q", out.String(), in.String(), wantOut, wantIn)
	}
}
