package authz

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// canonicalRE is the documented shape of a canonical BMC name.
var canonicalRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$`)

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string // substring of the error; "" means no error
	}{
		{in: "node01", want: "node01"},
		{in: "NODE01", want: "node01"},
		{in: "Node01", want: "node01"},
		{in: "a", want: "a"},
		{in: "7", want: "7"},
		{in: "rack1-node_02.dc1", want: "rack1-node_02.dc1"},
		{in: strings.Repeat("a", 63), want: strings.Repeat("a", 63)},
		{in: "", wantErr: "BMC name is empty"},
		{in: strings.Repeat("a", 64), wantErr: "longer than 63"},
		{in: "node01.", wantErr: "must not end with a dot"},
		{in: ".node01", wantErr: "must not start with a dot"},
		{in: "node..01", wantErr: `must not contain ".."`},
		{in: "-node", wantErr: "must start with a letter or digit"},
		{in: "node-", wantErr: "must end with a letter or digit"},
		{in: "_node", wantErr: "must start with a letter or digit"},
		{in: "node 01", wantErr: "contains a space"},
		{in: " node01", wantErr: "contains a space"},
		{in: "node01\x00", wantErr: "control character"},
		{in: "node01\n", wantErr: "control character"},
		{in: "node01\t", wantErr: "control character"},
		{in: "node01\x7f", wantErr: "control character"},
		{in: "ｎｏｄｅ01", wantErr: "plain ASCII"},
		{in: "node01\u200b", wantErr: "plain ASCII"},
		{in: "nodе01", wantErr: "plain ASCII"}, // Cyrillic e
		{in: "node/01", wantErr: `contains "/"`},
		{in: "node*", wantErr: `contains "*"`},
		{in: "node=1", wantErr: `contains "="`},
		{in: "node,1", wantErr: `contains ","`},
		{in: "node%01", wantErr: `contains "%"`},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			got, err := CanonicalName(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CanonicalName(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("CanonicalName(%q) returned %q with an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CanonicalName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !canonicalRE.MatchString(got) {
				t.Errorf("result %q does not match %v", got, canonicalRE)
			}
		})
	}
}

func TestCanonicalLabel(t *testing.T) {
	tests := []struct {
		key, value         string
		wantKey, wantValue string
		wantErr            string
	}{
		{key: "rack", value: "r1", wantKey: "rack", wantValue: "r1"},
		{key: "Rack", value: "R1", wantKey: "rack", wantValue: "r1"},
		{key: "example.com/rack", value: "r1", wantKey: "example.com/rack", wantValue: "r1"},
		{key: "", value: "r1", wantErr: "label key is empty"},
		{key: "rack", value: "", wantErr: "label value is empty"},
		{key: "/rack", value: "r1", wantErr: "must start with a letter or digit"},
		{key: "rack/", value: "r1", wantErr: "must end with a letter or digit"},
		{key: "a//b", value: "r1", wantErr: `"//"`},
		{key: "rack", value: "r/1", wantErr: `contains "/"`},
		{key: "rack", value: "r1.", wantErr: "must not end with a dot"},
		{key: "ｒａｃｋ", value: "r1", wantErr: "plain ASCII"},
		{key: "rack", value: "r1\u200b", wantErr: "plain ASCII"},
		{key: "rack=x", value: "r1", wantErr: `contains "="`},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.key+"="+tt.value), func(t *testing.T) {
			k, v, err := CanonicalLabel(tt.key, tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CanonicalLabel(%q, %q) = %q, %q, %v; want error containing %q", tt.key, tt.value, k, v, err, tt.wantErr)
				}
				return
			}
			if err != nil || k != tt.wantKey || v != tt.wantValue {
				t.Fatalf("CanonicalLabel(%q, %q) = %q, %q, %v; want %q, %q", tt.key, tt.value, k, v, err, tt.wantKey, tt.wantValue)
			}
		})
	}
}

// TestNameAttackCorpus checks that every line of testdata/name-attacks.txt
// (Go-quoted strings) is rejected as a BMC name, as a selector and as a
// target: none of them may reach a rule written for "node01".
func TestNameAttackCorpus(t *testing.T) {
	f, err := os.Open("testdata/name-attacks.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := mustPolicy(t, Role{Name: "op", Rules: []Rule{
		rule(t, Allow, []string{"*"}, []string{"node01"}),
		rule(t, Allow, []string{"*"}, []string{"node0*"}),
	}})
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("bad corpus line %q: %v", line, err)
		}
		n++
		if got, err := CanonicalName(in); err == nil {
			t.Errorf("CanonicalName(%q) = %q, want an error", in, got)
		}
		if sel, err := ParseSelector(in); err == nil && sel.IsExact() {
			t.Errorf("ParseSelector(%q) = exact %q, want an error", in, sel)
		}
		d := p.Decide(Principal{Name: "u", Roles: []string{"op"}}, PowerOn, Target{Name: in})
		if d.Allowed {
			t.Errorf("Decide on target %q allowed: %s", in, d.Reason)
		}
		if !strings.HasPrefix(d.Reason, "denied: invalid target") && d.Reason != "denied: power.on needs a BMC" {
			t.Errorf("Decide on target %q: reason %q, want an invalid target denial", in, d.Reason)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("corpus has only %d entries", n)
	}
}
