package configs

import "testing"

func TestPaths(t *testing.T) {
	tests := []struct{ path, parent string }{
		{"version", ""},
		{"listen.ssh", "listen"},
		{"roles[0]", "roles"},
		{"roles[0].allow[1].bmcs[2]", "roles[0].allow[1].bmcs"},
		{"roles[0].allow[1].bmcs", "roles[0].allow[1]"},
		{`bmcs[0].labels["example.com/rack"]`, "bmcs[0].labels"},
		{`bmcs[0].labels["a[1]"]`, "bmcs[0].labels"},
		{"bmcs[0].labels.rack", "bmcs[0].labels"},
	}
	for _, tt := range tests {
		if got := parentPath(tt.path); got != tt.parent {
			t.Errorf("parentPath(%q) = %q, want %q", tt.path, got, tt.parent)
		}
	}
	if got := keyPath("bmcs[0].labels", "example.com/rack"); got != `bmcs[0].labels["example.com/rack"]` {
		t.Errorf("keyPath = %s", got)
	}
	if got := keyPath("bmcs[0].labels", "rack"); got != "bmcs[0].labels.rack" {
		t.Errorf("keyPath = %s", got)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "f.yaml", Line: 3, Column: 5, Field: "a.b", Message: "bad"}, "f.yaml:3: a.b: bad"},
		{Problem{File: "f.yaml", Field: "a.b", Message: "bad"}, "f.yaml: a.b: bad"},
		{Problem{File: "f.yaml", Line: 2, Message: "bad"}, "f.yaml:2: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	e := &Error{Problems: []Problem{tests[0].p, tests[2].p}}
	if got := e.Error(); got != "f.yaml:3: a.b: bad\nf.yaml:2: bad" {
		t.Errorf("Error() = %q", got)
	}
}
