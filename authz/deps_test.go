package authz

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps authz pure: its non-test files import only the
// standard library and bmcgate's shared leaf packages (internal/...), none
// of them a package that performs I/O.
func TestImports(t *testing.T) {
	forbidden := []string{"os", "io", "net", "log", "log/slog", "syscall", "unsafe", "time"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !strings.HasPrefix(path, "github.com/bmcgate/bmcgate/internal/") {
				t.Errorf("%s imports %s: authz imports only the standard library", name, path)
			}
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: authz performs no I/O", name, path)
				}
			}
		}
	}
}
