package sshd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

// terminalUnsafe reports a character that must never reach a terminal
// raw: controls other than newline and tab, C1 controls, line and
// paragraph separators and format characters (bidi controls and the like).
func terminalUnsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// TestWriteJSONTerminalSafe: BMC text in --json output reaches the terminal
// with C1 controls and format characters (bidi overrides, zero-width and
// tag characters) escaped, and the document still decodes to the same text.
func TestWriteJSONTerminalSafe(t *testing.T) {
	in := map[string]string{"name": "CPU\u202e\u200b\u009b2J\U000E0041é日\u2028<", "plain": "node01"}
	var out, errw bytes.Buffer
	e := &env{out: &out, errw: &errw}
	if code := e.writeJSON(in); code != exitOK {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	s := out.String()
	if i := strings.IndexFunc(s, terminalUnsafe); i >= 0 {
		t.Fatalf("raw character at %d in %q", i, s)
	}
	for _, want := range []string{`\u202e`, `\u200b`, `\u009b`, `\udb40\udc41`, "é日", `\u2028`, `\u003c`} {
		if !strings.Contains(s, want) {
			t.Errorf("output %q lacks %s", s, want)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["name"] != in["name"] || back["plain"] != in["plain"] {
		t.Fatalf("decodes to %q, %v", back, err)
	}
	if !strings.HasSuffix(s, "}\n") {
		t.Errorf("output %q does not end with a newline", s)
	}
}
