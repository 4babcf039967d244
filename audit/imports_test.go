package audit

import (
	"go/build"
	"strings"
	"testing"
)

// The audit package may import the standard library, bbolt and authz types,
// nothing else of bmcgate (see the module's import rules).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		switch {
		case imp == "github.com/bmcgate/bmcgate/authz":
		case strings.HasPrefix(imp, "go.etcd.io/bbolt"):
		case !strings.Contains(strings.SplitN(imp, "/", 2)[0], "."): // standard library
		default:
			t.Errorf("audit imports %s", imp)
		}
	}
}
