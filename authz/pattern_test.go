package authz

import (
	"slices"
	"strings"
	"testing"
)

func TestParseActionPattern(t *testing.T) {
	tests := []struct {
		in      string
		matches []Action // exactly the known actions it must match
		wantErr string
	}{
		{in: "*", matches: KnownActions()},
		{in: "power.*", matches: []Action{PowerCycle, PowerOff, PowerOn, PowerReset, PowerSoft, PowerStatus}},
		{in: "sel.*", matches: []Action{SELClear, SELRead}},
		{in: "power.on", matches: []Action{PowerOn}},
		{in: "audit.read", matches: []Action{AuditRead}},
		{in: "", wantErr: "action is empty"},
		{in: "power.up", wantErr: `unknown action "power.up"`},
		{in: "Power.On", wantErr: "unknown action"},
		{in: "power", wantErr: "unknown action"},
		{in: "power.", wantErr: "unknown action"},
		{in: "pow*", wantErr: "unknown action"},
		{in: "*.on", wantErr: "unknown action"},
		{in: "bogus.*", wantErr: `no action group "bogus"`},
		{in: "power.on ", wantErr: "unknown action"},
		{in: "power.оn", wantErr: "unknown action"}, // Cyrillic o
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParseActionPattern(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseActionPattern(%q) = %v, %v; want error containing %q", tt.in, p, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []Action
			for _, a := range KnownActions() {
				if p.Match(a) {
					got = append(got, a)
				}
			}
			if !slices.Equal(got, tt.matches) {
				t.Errorf("%q matches %v, want %v", tt.in, got, tt.matches)
			}
			if p.Match("power.bogus") || p.Match("") {
				t.Errorf("%q matches an unknown action", tt.in)
			}
			if p.String() != tt.in {
				t.Errorf("String() = %q, want %q", p.String(), tt.in)
			}
		})
	}
	if (ActionPattern{}).Match(PowerOn) {
		t.Error("zero ActionPattern matched")
	}
}
