package bmcsim

import (
	"github.com/bougou/go-ipmi/pkg/hal"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
)

// simHAL is go-ipmi's in-memory HAL with our chassis and console.
type simHAL struct {
	*mock.HAL
	chassis *chassis
	console hal.ConsoleHAL // nil: no SOL
}

var _ hal.HAL = (*simHAL)(nil)

func (h *simHAL) Chassis() hal.ChassisHAL { return h.chassis }
func (h *simHAL) Console() hal.ConsoleHAL { return h.console }
