package authz

import (
	"reflect"
	"strings"
	"testing"
)

// fuzzSeeds are starting inputs shared by the fuzz tests.
var fuzzSeeds = []string{
	"", "*", "node01", "NODE01", "node01.", "ｎｏｄｅ01", "node01\u200b", "node01\x00",
	"node0*", "rack?-[ab]*", "node[", "node[^a-]", "rack=r1", "rack=r1,env=prod",
	"example.com/rack=r*", "a=b=c", ",", "=", "[]", "\\*", "node..1", strings.Repeat("a", 64),
}

func FuzzCanonicalName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalName(s)
		if err != nil {
			if c != "" {
				t.Fatalf("CanonicalName(%q) returned %q with error %v", s, c, err)
			}
			return
		}
		if !canonicalRE.MatchString(c) || strings.Contains(c, "..") {
			t.Fatalf("CanonicalName(%q) = %q, which is not canonical", s, c)
		}
		if !strings.EqualFold(c, s) || len(c) != len(s) {
			t.Fatalf("CanonicalName(%q) = %q changed more than ASCII case", s, c)
		}
		if again, err := CanonicalName(c); err != nil || again != c {
			t.Fatalf("CanonicalName(%q) = %q, %v; not idempotent", c, again, err)
		}
	})
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "node01")
	}
	f.Fuzz(func(t *testing.T, s, name string) {
		sel, err := ParseSelector(s)
		if err != nil {
			if !sel.IsZero() {
				t.Fatalf("ParseSelector(%q) returned a selector with error %v", s, err)
			}
			return
		}
		back, err := ParseSelector(sel.String())
		if err != nil || !reflect.DeepEqual(back, sel) {
			t.Fatalf("round trip %q -> %q -> %#v, %v", s, sel.String(), back, err)
		}
		if back.String() != sel.String() {
			t.Fatalf("String not stable: %q then %q", sel.String(), back.String())
		}
		// Match must not panic and must agree for every spelling of a name.
		tg := Target{Name: name, Labels: map[string]string{"rack": name}}
		got := sel.Match(tg)
		if c, err := CanonicalName(name); err == nil {
			if other := sel.Match(Target{Name: c, Labels: map[string]string{"rack": c}}); other != got {
				t.Fatalf("%q matches %q = %v but canonical %q = %v", sel, name, got, c, other)
			}
		} else if got {
			t.Fatalf("%q matched invalid name %q", sel, name)
		}
	})
}

func FuzzParseActionPattern(f *testing.F) {
	for _, s := range []string{"*", "power.*", "power.on", "audit.read", "", ".*", "x.*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseActionPattern(s)
		if err != nil {
			return
		}
		n := 0
		for _, a := range KnownActions() {
			if p.Match(a) {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("pattern %q parsed but matches nothing", s)
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
	})
}
