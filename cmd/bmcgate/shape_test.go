package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Limits on the doors' and the brokers' functions (non-test code under
// gateway/ and proxy/): a function that grows past them is split into its
// phases, so each reads on one screen and is tested on its own.
const (
	maxFuncLines      = 80
	maxFuncComplexity = 25 // cyclomatic, counted as gocyclo counts
)

// TestFunctionShape keeps every non-test function under gateway/ and
// proxy/ within maxFuncLines lines and maxFuncComplexity.
func TestFunctionShape(t *testing.T) {
	fset := token.NewFileSet()
	for _, root := range []string{"../../gateway", "../../proxy"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				name := strings.TrimPrefix(path, "../../") + ": " + fn.Name.Name
				if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > maxFuncLines {
					t.Errorf("%s is %d lines long (at most %d): split it into its phases", name, n, maxFuncLines)
				}
				if c := complexity(fn); c > maxFuncComplexity {
					t.Errorf("%s has cyclomatic complexity %d (at most %d): split it", name, c, maxFuncComplexity)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// complexity is 1 plus the function's decision points: if, for, range,
// each non-default case and comm clause, && and ||.
func complexity(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// TestComplexityCounts pins the counter against a known function.
func TestComplexityCounts(t *testing.T) {
	src := `package p
func f(a, b bool, xs []int, ch chan int) {
	if a && b { }
	for range xs { }
	switch { case a: case b: default: }
	select { case <-ch: default: }
}`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 1 + if + && + range + 2 cases + 1 comm clause = 7
	if c := complexity(f.Decls[0].(*ast.FuncDecl)); c != 7 {
		t.Errorf("complexity %d, want 7", c)
	}
}
