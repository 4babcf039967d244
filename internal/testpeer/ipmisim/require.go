package ipmisim

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequirePeersEnv, when set to a non-empty value (CI sets it to 1), turns a
// missing peer binary from a skipped test into a failed one.
const RequirePeersEnv = "BMCGATE_REQUIRE_PEERS"

// RequireBinaries skips t when one of the named programs is not on PATH,
// unless BMCGATE_REQUIRE_PEERS is set, in which case t fails. In -short
// mode (go test -short) it always skips: every test against a real peer,
// and every end-to-end test of the gateway (they drive OpenSSH), comes
// through here, so -short runs the unit tests alone.
func RequireBinaries(t testing.TB, names ...string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: needs real peers (%s)", strings.Join(names, ", "))
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv(RequirePeersEnv) != "" {
				t.Fatalf("%s is required (%s is set) but not found: %v", n, RequirePeersEnv, err)
			}
			t.Skipf("%s not found; install it or set %s=1 to make this a failure", n, RequirePeersEnv)
		}
	}
}

// Require skips (or, with BMCGATE_REQUIRE_PEERS set, fails) t unless
// ipmi_sim and sdrcomp are available.
func Require(t testing.TB) {
	t.Helper()
	RequireBinaries(t, "ipmi_sim", "sdrcomp")
}

// StartT starts a simulator in a fresh t.TempDir and stops it when the test
// ends. It skips or fails t as Require does when ipmi_sim is missing.
func StartT(t testing.TB, opts Options) *Sim {
	t.Helper()
	Require(t)
	s, err := Start(t.Context(), t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start ipmi_sim: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}
