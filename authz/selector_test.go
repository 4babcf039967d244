package authz

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in      string
		want    string // canonical String(); ignored when wantErr is set
		exact   bool
		wantErr string
	}{
		{in: "*", want: "*"},
		{in: "node01", want: "node01", exact: true},
		{in: "NODE01", want: "node01", exact: true},
		{in: "node0*", want: "node0*"},
		{in: "NODE0*", want: "node0*"},
		{in: "rack?-[ab]*", want: "rack?-[ab]*"},
		{in: "rack?-[AB]*", want: "rack?-[ab]*"},
		{in: "node[^1]", want: "node[^1]"},
		{in: "rack=r1", want: "rack=r1"},
		{in: "Rack=R1", want: "rack=r1"},
		{in: "rack=r*", want: "rack=r*"},
		{in: "rack=*", want: "rack=*"},
		{in: "rack=r1,env=prod", want: "rack=r1,env=prod"},
		{in: "example.com/rack=r1", want: "example.com/rack=r1"},
		{in: "", wantErr: "selector is empty"},
		{in: "node01.", wantErr: "must not end with a dot"},
		{in: "ｎｏｄｅ01", wantErr: "plain ASCII"},
		{in: "node01\u200b", wantErr: "plain ASCII"},
		{in: "node01\x00", wantErr: "control character"},
		{in: "node0[", wantErr: "not a valid glob"},
		{in: "node0[a-", wantErr: "not a valid glob"},
		{in: "node0\\*", wantErr: `contains "\\"`},
		{in: "node/*", wantErr: `contains "/"`},
		{in: "ｎｏｄｅ*", wantErr: "plain ASCII"},
		{in: "node *", wantErr: "contains a space"},
		{in: "node01,node02", wantErr: "joins names with commas"},
		{in: "rack=", wantErr: "label value is empty"},
		{in: "=r1", wantErr: "label key is empty"},
		{in: "rack=r1,", wantErr: `part "" is not key=value`},
		{in: "rack=r1,node01", wantErr: `part "node01" is not key=value`},
		{in: "rack=r1,rack=r2", wantErr: "names label rack twice"},
		{in: "Rack=r1,rack=r2", wantErr: "names label rack twice"},
		{in: "rack=r1=x", wantErr: `contains "="`},
		{in: "rack=r[", wantErr: "not a valid glob"},
		{in: "ra*ck=r1", wantErr: `contains "*"`},
		{in: "rack=r1 ", wantErr: "contains a space"},
		{in: "rack=ｒ1", wantErr: "plain ASCII"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			s, err := ParseSelector(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSelector(%q) = %q, %v; want error containing %q", tt.in, s, err, tt.wantErr)
				}
				if !s.IsZero() {
					t.Errorf("ParseSelector(%q) returned a non-zero selector with an error", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSelector(%q): %v", tt.in, err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if s.IsExact() != tt.exact {
				t.Errorf("IsExact() = %v, want %v", s.IsExact(), tt.exact)
			}
			back, err := ParseSelector(s.String())
			if err != nil || !reflect.DeepEqual(back, s) {
				t.Errorf("round trip of %q: got %#v, %v; want %#v", s, back, err, s)
			}
		})
	}
}

func TestSelectorMatch(t *testing.T) {
	node01 := Target{Name: "node01", Labels: map[string]string{"rack": "r1", "env": "prod"}}
	node02 := Target{Name: "node02", Labels: map[string]string{"rack": "r2", "env": "prod"}}
	rackA := Target{Name: "rack7-a1", Labels: map[string]string{"example.com/rack": "r7"}}
	bare := Target{Name: "db1"}
	tests := []struct {
		sel    string
		target Target
		want   bool
	}{
		{"*", node01, true},
		{"*", bare, true},
		{"*", Target{}, false},
		{"node01", node01, true},
		{"node01", node02, false},
		{"NODE01", node01, true},
		{"node01", Target{Name: "NODE01"}, true},
		{"node01", Target{Name: "node01."}, false},
		{"node01", Target{Name: "ｎｏｄｅ01"}, false},
		{"node01", Target{Name: "node01\u200b"}, false},
		{"node01", Target{Name: "node01\x00"}, false},
		{"*", Target{Name: "node01\x00"}, false},
		{"node0*", node01, true},
		{"node0*", node02, true},
		{"node0*", bare, false},
		{"node0*", Target{Name: "NODE09"}, true},
		{"node0?", node01, true},
		{"node0[2-9]", node01, false},
		{"node0[2-9]", node02, true},
		{"node0[^1]", node01, false},
		{"rack?-[ab]*", rackA, true},
		{"rack?-[b]*", rackA, false},
		{"rack=r1", node01, true},
		{"rack=r1", node02, false},
		{"rack=R1", node01, true},
		{"rack=r1", Target{Name: "node01", Labels: map[string]string{"Rack": "R1"}}, true},
		{"rack=r1", Target{Name: "node01", Labels: map[string]string{"rack": "r1\u200b"}}, false},
		{"rack=r1", Target{Name: "node01", Labels: map[string]string{"rack": "r1", "Rack": "r2"}}, false},
		{"rack=r*", node02, true},
		{"rack=*", node01, true},
		{"rack=*", bare, false},
		{"rack=r1,env=prod", node01, true},
		{"rack=r1,env=dev", node01, false},
		{"rack=r1,env=prod", node02, false},
		{"env=prod,rack=r?", node02, true},
		{"example.com/rack=r7", rackA, true},
		{"rack=r7", rackA, false},
	}
	for _, tt := range tests {
		t.Run(tt.sel+" "+strconv.Quote(tt.target.Name), func(t *testing.T) {
			s, err := ParseSelector(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Match(tt.target); got != tt.want {
				t.Errorf("ParseSelector(%q).Match(%+q) = %v, want %v", tt.sel, tt.target, got, tt.want)
			}
		})
	}
	if (Selector{}).Match(node01) {
		t.Error("zero Selector matched")
	}
}
