package configs

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps configs to the standard library, the YAML decoder, the
// SSH key parser and bmcgate's shared leaf packages (internal/...).
func TestImports(t *testing.T) {
	allowed := map[string]bool{"go.yaml.in/yaml/v3": true, "golang.org/x/crypto/ssh": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowed[path] && !strings.HasPrefix(path, "github.com/bmcgate/bmcgate/internal/") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
