package main

import (
	"os/exec"
	"strings"
	"testing"
)

// importRules says, for every bmcgate package, which of bmcgate's packages
// its non-test code may import. Imports point one way:
//
//	cmd → gateway (the running gateway), gateway/demo, gateway/offline
//	    → gateway/assemble (config to runtime)
//	    → the doors (gateway/sshd, gateway/web, gateway/bmchost) and gateway/console, gateway/scans
//	    → gateway/service (the service layer)
//	    → {authz, audit, proxy/..., configs}
//	    → internal/... (shared leaves anyone may import)
//
// A pattern ending in "/..." matches the package and everything below it.
// The first rule whose package pattern matches applies; a package no rule
// names fails the test, so a new package gets a rule when it is added.
// Simulators (internal/sim) are imported by the demo and by tests; test
// peers (internal/testpeer) only by tests.
var importRules = []struct {
	pkg string
	may []string
}{
	{"cmd/...", []string{"gateway/...", "configs", "audit", "internal/leaves"}},
	{"gateway/demo", []string{"gateway", "gateway/assemble", "gateway/web/breakglass", "audit", "configs", "internal/leaves", "internal/sim/..."}},
	{"gateway/offline", []string{"gateway/assemble", "gateway/scans", "gateway/service", "audit", "authz", "configs", "proxy/...", "internal/leaves"}},
	{"gateway/assemble", []string{"gateway/service", "gateway/sshd", "gateway/console", "gateway/scans", "gateway/web", "audit", "authz", "configs", "proxy/...", "internal/leaves"}},
	{"gateway/scans", []string{"gateway/service", "audit", "authz", "proxy/scan", "internal/leaves"}},
	{"gateway/sshd/krl", nil},
	{"gateway/sshd", []string{"gateway/service", "gateway/console", "gateway/refusals", "gateway/sshd/krl", "audit", "authz", "configs", "proxy/...", "internal/leaves"}},
	{"gateway/web/breakglass", []string{"configs", "internal/leaves"}},
	{"gateway/sshca", []string{"internal/leaves"}},
	// The automation credential store knows owners, scopes and secrets
	// only; policy and audit are its callers' part.
	{"gateway/creds", []string{"internal/leaves"}},
	{"gateway/locks", []string{"internal/leaves"}},
	{"gateway/bmchost", []string{"gateway/service", "gateway/httpfront", "audit", "authz", "configs", "proxy/webui", "internal/leaves"}},
	{"gateway/web", []string{"gateway/creds", "gateway/service", "gateway/refusals", "gateway/httpfront", "gateway/bmchost", "gateway/web/breakglass", "gateway/sshca", "audit", "authz", "configs", "proxy/...", "internal/leaves"}},
	{"gateway/console", []string{"gateway/service", "audit", "authz", "proxy/sol", "proxy/bmcssh", "internal/leaves"}},
	{"gateway/refusals", []string{"audit", "internal/leaves"}},
	{"gateway/httpfront", []string{"audit", "internal/leaves"}},
	{"gateway/service", []string{"gateway/creds", "audit", "authz", "proxy/...", "internal/leaves"}},
	{"gateway", []string{"gateway/assemble", "gateway/creds", "gateway/service", "gateway/sshd", "gateway/sshca", "gateway/locks", "gateway/web", "gateway/bmchost", "gateway/console", "gateway/scans", "audit", "authz", "configs", "proxy/...", "internal/leaves"}},
	// proxy/sol, the console broker, knows BMCs only: of bmcgate's
	// packages it imports proxy/ipmi alone. No broker knows users.
	{"proxy/sol", []string{"proxy/ipmi", "internal/leaves"}},
	// The image library knows files and addresses only.
	{"proxy/media", []string{"internal/leaves"}},
	{"proxy/...", []string{"proxy/...", "internal/leaves"}},
	{"audit/...", []string{"authz", "audit/...", "internal/leaves"}},
	{"authz", []string{"internal/leaves"}},
	{"configs", []string{"internal/leaves"}},
	{"internal/sim/...", []string{"internal/sim/...", "internal/leaves"}},
	{"internal/testpeer/...", []string{"internal/leaves"}},
	{"internal/...", []string{"internal/leaves"}},
}

// match reports whether pkg matches pattern. "internal/leaves" is every
// internal package that is neither a simulator nor a test peer.
func match(pattern, pkg string) bool {
	switch {
	case pattern == "internal/leaves":
		return strings.HasPrefix(pkg, "internal/") && !match("internal/sim/...", pkg) && !match("internal/testpeer/...", pkg)
	case strings.HasSuffix(pattern, "/..."):
		p := strings.TrimSuffix(pattern, "/...")
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == pattern
}

// TestImportDirection keeps the layering of importRules true for every
// package of the module.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/bmcgate/bmcgate/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		rule := -1
		for i, r := range importRules {
			if match(r.pkg, pkg) {
				rule = i
				break
			}
		}
		if rule < 0 {
			t.Errorf("%s: no import rule names this package; add one to importRules", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			imp = strings.TrimPrefix(imp, mod)
			ok := false
			for _, m := range importRules[rule].may {
				ok = ok || match(m, imp)
			}
			if !ok {
				t.Errorf("%s imports %s: against the layering (rule %q)", pkg, imp, importRules[rule].pkg)
			}
		}
	}
}

// TestImportRulesMatch: the rules' patterns are checked by the rule test
// itself only when a package matches them; these cases pin the matcher.
func TestImportRulesMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, pkg string
		want         bool
	}{
		{"gateway", "gateway", true},
		{"gateway", "gateway/web", false},
		{"gateway/...", "gateway", true},
		{"gateway/...", "gateway/web/breakglass", true},
		{"gateway/...", "gatewayx", false},
		{"internal/leaves", "internal/bmcname", true},
		{"internal/leaves", "internal/sim/bmcsim", false},
		{"internal/leaves", "internal/testpeer/ipmisim", false},
	} {
		if got := match(c.pattern, c.pkg); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.pattern, c.pkg, got)
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
