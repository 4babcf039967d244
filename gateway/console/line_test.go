package console

import (
	"testing"

	"github.com/bmcgate/bmcgate/proxy/sol"
)

// TestSOLStates: a SOL line's states map one to one, under the names the
// audit records have always carried.
func TestSOLStates(t *testing.T) {
	for _, st := range []sol.State{sol.StateConnecting, sol.StateActive, sol.StateBusy, sol.StateDropped, sol.StateClosed} {
		if got := solState(st); got == 0 || got.String() != st.String() {
			t.Errorf("sol %v is line %v", st, got)
		}
	}
	if LineRefused.String() != "refused" || LineState(99).String() != "state(99)" {
		t.Error("state names")
	}
}
