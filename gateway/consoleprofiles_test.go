package gateway

import (
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
)

// TestConsoleProfileNamesMatch keeps the config's list of SSH console
// profiles and the BMC SSH broker's built-in ones equal.
func TestConsoleProfileNamesMatch(t *testing.T) {
	got, want := sorted(configs.ConsoleProfileNames), bmcssh.BuiltinNames()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("configs.ConsoleProfileNames %v, proxy/bmcssh profiles %v", got, want)
	}
	if _, ok := bmcssh.Builtin(configs.DefaultConsoleProfile); !ok {
		t.Errorf("default profile %q is not built in", configs.DefaultConsoleProfile)
	}
}
