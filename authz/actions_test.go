package authz

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// TestKnownActionsComplete checks KnownActions against the Action constants
// declared in actions.go, so a new constant cannot be forgotten in the table.
func TestKnownActionsComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "actions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Action
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Action" {
				continue
			}
			for _, v := range vs.Values {
				s, err := strconv.Unquote(v.(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Action(s))
			}
		}
	}
	slices.Sort(declared)
	got := KnownActions()
	if !slices.Equal(got, declared) {
		t.Fatalf("KnownActions() = %v\nconstants    = %v", got, declared)
	}
	if !slices.IsSorted(got) {
		t.Error("KnownActions() is not sorted")
	}
	got[0] = "mutated"
	if KnownActions()[0] == "mutated" {
		t.Error("KnownActions returns the internal table")
	}
}

func TestActionKnownGlobal(t *testing.T) {
	for _, a := range KnownActions() {
		if !a.Known() {
			t.Errorf("%s.Known() = false", a)
		}
		if got, want := a.Global(), a == AuditRead || a == SessionJoin || a == SessionTerminate; got != want {
			t.Errorf("%s.Global() = %v, want %v", a, got, want)
		}
	}
	for _, a := range []Action{"", "power", "power.*", "*", "POWER.ON", "power.on ", "audit.write"} {
		if a.Known() {
			t.Errorf("%q.Known() = true", a)
		}
		if a.Global() {
			t.Errorf("%q.Global() = true", a)
		}
	}
}
