package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the layering true:
// cmd → gateway → {authz, audit, proxy, configs} → internal; internal/...
// holds the shared leaves every layer must agree on; proxy knows nothing of
// users; authz and configs are leaves; audit may use authz types only.
// proxy/sol, the console broker, knows BMCs only: of bmcgate's packages it
// imports proxy/ipmi alone, and its test host proxy/sol/solhost none.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/bmcgate/bmcgate/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := func(pkg, imp string) bool {
		switch {
		case strings.HasPrefix(pkg, "internal/"):
			// The shared leaves: each imports other leaves at most.
			return strings.HasPrefix(imp, "internal/")
		case strings.HasPrefix(imp, "internal/"):
			// Anyone may import a shared leaf.
			return true
		case strings.HasPrefix(pkg, "cmd/"):
			return imp == "gateway" || imp == "configs"
		case strings.HasPrefix(pkg, "gateway"):
			return !strings.HasPrefix(imp, "cmd/")
		case pkg == "proxy/sol":
			return imp == "proxy/ipmi"
		case pkg == "proxy/sol/solhost":
			return false
		case strings.HasPrefix(pkg, "proxy"):
			return strings.HasPrefix(imp, "proxy/")
		case pkg == "audit" || strings.HasPrefix(pkg, "audit/"):
			return imp == "authz" || strings.HasPrefix(imp, "audit/")
		case pkg == "authz", pkg == "configs":
			return false
		}
		return false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			imp = strings.TrimPrefix(imp, mod)
			if !allowed(pkg, imp) {
				t.Errorf("%s imports %s: against the layering", pkg, imp)
			}
		}
	}
}
