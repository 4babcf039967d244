package sshd

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "power status node01", want: []string{"power", "status", "node01"}},
		{in: "  list\t rack=r1  ", want: []string{"list", "rack=r1"}},
		{in: `power status 'node*' "rack=r 1"`, want: []string{"power", "status", "node*", "rack=r 1"}},
		{in: `a\ b c`, want: []string{"a b", "c"}},
		{in: `''`, want: []string{""}},
		{in: `'it''s'`, want: []string{"its"}},
		{in: `"unterminated`, wantErr: "unterminated quote"},
		{in: `trailing\`, wantErr: "trailing backslash"},
		{in: "esc\x1b[2J", wantErr: "control characters"},
		{in: "nul\x00", wantErr: "control characters"},
		{in: "bad\xff", wantErr: "UTF-8"},
		{in: strings.Repeat("a", maxLineBytes+1), wantErr: "longer than"},
		{in: strings.Repeat("a ", maxArgs+1), wantErr: "more than"},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("splitWords(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	spec := flagSpec{"json": false, "limit": true}
	tests := []struct {
		in      []string
		flags   map[string]string
		args    []string
		wantErr string
	}{
		{in: []string{"status", "node01", "--json"}, flags: map[string]string{"json": ""}, args: []string{"status", "node01"}},
		{in: []string{"--limit", "5", "list", "x"}, flags: map[string]string{"limit": "5"}, args: []string{"list", "x"}},
		{in: []string{"--limit=7", "x"}, flags: map[string]string{"limit": "7"}, args: []string{"x"}},
		{in: []string{"--", "--json"}, flags: map[string]string{}, args: []string{"--json"}},
		{in: []string{"-x"}, flags: map[string]string{}, args: []string{"-x"}},
		{in: []string{"--nope"}, wantErr: "unknown flag"},
		{in: []string{"--limit"}, wantErr: "needs a value"},
		{in: []string{"--json=1"}, wantErr: "takes no value"},
		{in: []string{"--json", "--json"}, wantErr: "twice"},
	}
	for _, tt := range tests {
		p, err := parseFlags(tt.in, spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFlags(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p.flags, tt.flags) || !reflect.DeepEqual(p.args, tt.args) {
			t.Errorf("parseFlags(%q) = %v %q, %v", tt.in, p.flags, p.args, err)
		}
	}
}

func TestCRLFWriter(t *testing.T) {
	tests := map[string]string{
		"a\nb\n":   "a\r\nb\r\n",
		"a\r\nb":   "a\r\nb",
		"\n":       "\r\n",
		"no break": "no break",
	}
	for in, want := range tests {
		var b strings.Builder
		n, err := crlfWriter{&b}.Write([]byte(in))
		if err != nil || n != len(in) || b.String() != want {
			t.Errorf("crlf(%q) = %q (n=%d, %v), want %q", in, b.String(), n, err, want)
		}
	}
}
