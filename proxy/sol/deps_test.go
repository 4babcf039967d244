package sol

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps proxy/sol a broker that knows BMCs, never users: of
// bmcgate's own packages it may import only proxy/ipmi (and solhost none).
func TestImports(t *testing.T) {
	for _, dir := range []string{".", "solhost"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
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
				if strings.HasPrefix(path, "github.com/bmcgate/bmcgate/") && (dir != "." || path != "github.com/bmcgate/bmcgate/proxy/ipmi") {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}
