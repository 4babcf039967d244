package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFormatText(t *testing.T) {
	at := time.Date(2026, 11, 24, 16, 41, 5, 123456789, time.UTC)
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"decision", Record{Seq: 42, Time: at, Code: CodeDecision, Door: DoorSSH, Actor: "alice", Source: "127.0.0.1:5555",
			Action: "power.on", Target: "node01", Outcome: OutcomeDeny, Reason: "no rule", Duration: 12 * time.Millisecond},
			"2026-11-24T16:41:05.123Z #42 authz.decision ssh alice@127.0.0.1:5555 power.on node01 deny: no rule (12ms)"},
		{"system", Record{Seq: 1, Time: at, Code: CodeGatewayStart, Door: DoorSystem},
			"2026-11-24T16:41:05.123Z #1 gateway.start system"},
		{"source only, session, fields, data", Record{Seq: 7, Time: at.In(time.FixedZone("CET", 3600)), Code: CodeAuthFail,
			Door: DoorSSH, Source: "10.0.0.9:2222", Session: "abc", Outcome: OutcomeFail,
			Fields: map[string]string{"method": "password", "attempt": "3"}, Data: []byte{1, 2, 3}},
			"2026-11-24T16:41:05.123Z #7 auth.fail ssh @10.0.0.9:2222 fail session=abc attempt=3 method=password data=3B"},
		{"reason without outcome", Record{Seq: 3, Time: at, Code: CodeConfigLoad, Reason: "loaded", Duration: 1500 * time.Microsecond},
			"2026-11-24T16:41:05.123Z #3 config.load loaded (1.5ms)"},
		{"stored escapes are not doubled", Record{Seq: 5, Time: at, Code: CodeCmdRun, Actor: `root\x1b[2J`, Reason: `C:\\x`},
			`2026-11-24T16:41:05.123Z #5 cmd.run root\x1b[2J C:\\x`},
		{"raw controls are escaped", Record{Seq: 6, Time: at, Code: CodeCmdRun, Actor: "root\x1b[2J", Target: "n\u202e1", Reason: "a\nb"},
			`2026-11-24T16:41:05.123Z #6 cmd.run root\x1b[2J n\u202e1 a\nb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatText(tt.r)
			if got != tt.want {
				t.Fatalf("FormatText =\n%s\nwant\n%s", got, tt.want)
			}
			if strings.ContainsFunc(got, unsafeRune) {
				t.Fatalf("unsafe character in %q", got)
			}
		})
	}
}

func TestWriteJSONLine(t *testing.T) {
	at := time.Date(2026, 11, 24, 16, 41, 5, 123456789, time.UTC)
	r := Record{Seq: 9, Time: at, Code: CodeCmdRun, Actor: "bob", Target: "<node&1>", Reason: "raw \u202e and \x1b",
		Duration: time.Second, Fields: map[string]string{"k\u2066": "v"}, Data: []byte{0x1b, 0},
		Prev: zeroHashHex, Hash: strings.Repeat("1", 64)}
	var buf bytes.Buffer
	must(t, WriteJSONLine(&buf, r))
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("not one line: %q", line)
	}
	if strings.ContainsFunc(strings.TrimSuffix(line, "\n"), unsafeRune) || !strings.Contains(line, `"<node&1>"`) {
		t.Fatalf("line not escaped as expected: %s", line)
	}
	var back Record
	must(t, json.Unmarshal(buf.Bytes(), &back))
	want := r
	want.Reason = `raw \u202e and \x1b`
	want.Fields = map[string]string{`k\u2066`: "v"}
	if !equalRecords(back, want) {
		t.Fatalf("round trip = %+v\nwant %+v", back, want)
	}
	for _, key := range []string{`"duration_ns":1000000000`, `"data":"GwA="`, `"prev":"0000`} {
		if !strings.Contains(line, key) {
			t.Errorf("line lacks %s: %s", key, line)
		}
	}
	if err := WriteJSONLine(failWriter{}, r); !errors.Is(err, errWrite) {
		t.Fatalf("WriteJSONLine to failing writer = %v", err)
	}
}

var errWrite = errors.New("write failed")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
