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
// imports proxy/ipmi alone. Simulators (internal/sim) and test peers
// (internal/testpeer) are not brokers and live outside proxy/; no
// non-test code imports a test peer. The image library proxy/media
// imports none of bmcgate's packages.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/bmcgate/bmcgate/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := func(pkg, imp string) bool {
		switch {
		case strings.HasPrefix(pkg, "internal/testpeer/"):
			// Test peers stand alone.
			return false
		case strings.HasPrefix(pkg, "internal/sim/"):
			// Simulators import the shared leaves and each other.
			return strings.HasPrefix(imp, "internal/") && !strings.HasPrefix(imp, "internal/testpeer/")
		case strings.HasPrefix(pkg, "internal/"):
			// The shared leaves: each imports other leaves at most.
			return strings.HasPrefix(imp, "internal/") && !strings.HasPrefix(imp, "internal/sim/") && !strings.HasPrefix(imp, "internal/testpeer/")
		case strings.HasPrefix(imp, "internal/testpeer/"):
			// Test peers are for tests (go list's Imports are non-test).
			return false
		case strings.HasPrefix(imp, "internal/"):
			// Anyone may import a shared leaf.
			return true
		case strings.HasPrefix(pkg, "cmd/"):
			return imp == "gateway" || imp == "configs"
		case strings.HasPrefix(pkg, "gateway"):
			return !strings.HasPrefix(imp, "cmd/")
		case pkg == "proxy/sol":
			return imp == "proxy/ipmi"
		case pkg == "proxy/media":
			// The image library knows files and addresses only.
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

// TestBinaryLinksNoTestPackage: the bmcgate binary links neither the
// testing package nor any of bmcgate's test peers (internal/testpeer/...).
// The simulators (internal/sim/...) are linked: the demo runs them.
func TestBinaryLinksNoTestPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "testing", strings.HasPrefix(dep, "testing/"),
			strings.HasPrefix(dep, "github.com/bmcgate/bmcgate/internal/testpeer/"),
			strings.HasSuffix(dep, "/testutil"), strings.HasSuffix(dep, "/testenv"):
			t.Errorf("the binary links %s, a test-only package", dep)
		}
	}
}
