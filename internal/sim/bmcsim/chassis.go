package bmcsim

import (
	"context"
	"sync"

	"github.com/bougou/go-ipmi/pkg/hal"
	"github.com/bougou/go-ipmi/pkg/types"
)

// chassis is the simulated chassis: power on/off is state, cycle and hard
// reset need the host powered on (like many real BMCs, which answer "not
// supported in present state" otherwise), and a soft shutdown powers the
// host off as an orderly OS shutdown would.
type chassis struct {
	mu       sync.Mutex
	on       bool
	cycles   int
	resets   int
	onChange func(on bool) // called after every power transition, unlocked
	boot     *types.BootOptionParam_BootFlags
	bootAck  *types.BootOptionParam_BootInfoAcknowledge
	identify uint8
}

var _ hal.ChassisHAL = (*chassis)(nil)

func (c *chassis) set(on bool) {
	c.mu.Lock()
	changed := c.on != on
	c.on = on
	fn := c.onChange
	c.mu.Unlock()
	if changed && fn != nil {
		fn(on)
	}
}

func (c *chassis) power() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

func (c *chassis) PowerState(context.Context) (bool, error) { return c.power(), nil }

func (c *chassis) SetPower(_ context.Context, on bool) error {
	c.set(on)
	return nil
}

// PowerCycle turns the host off and on again; the state seen before and
// after is "on", the SEL shows both transitions.
func (c *chassis) PowerCycle(context.Context) error {
	c.mu.Lock()
	if !c.on {
		c.mu.Unlock()
		return types.CodeNotSupported
	}
	c.cycles++
	fn := c.onChange
	c.mu.Unlock()
	if fn != nil {
		fn(false)
		fn(true)
	}
	return nil
}

func (c *chassis) ColdReset(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return types.CodeNotSupported
	}
	c.resets++
	return nil
}

// WarmReset is what the reference server runs for a soft shutdown
// (chassis control 05h): the host's OS shuts down and powers off.
func (c *chassis) WarmReset(context.Context) error {
	c.set(false)
	return nil
}

func (c *chassis) Identify(_ context.Context, seconds uint8) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.identify = seconds
	return nil
}

func (c *chassis) IntrusionState(context.Context) (bool, error) { return false, nil }

func (c *chassis) SetBootFlags(_ context.Context, f *types.BootOptionParam_BootFlags) error {
	if f == nil {
		return hal.ErrNotSupported
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *f
	c.boot = &cp
	return nil
}

func (c *chassis) GetBootFlags(context.Context) (*types.BootOptionParam_BootFlags, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.boot == nil {
		// Never set: no override, as real BMCs answer.
		return &types.BootOptionParam_BootFlags{}, nil
	}
	cp := *c.boot
	return &cp, nil
}

func (c *chassis) SetBootInfoAcknowledge(_ context.Context, a *types.BootOptionParam_BootInfoAcknowledge) error {
	if a == nil {
		return hal.ErrNotSupported
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *a
	c.bootAck = &cp
	return nil
}

func (c *chassis) GetBootInfoAcknowledge(context.Context) (*types.BootOptionParam_BootInfoAcknowledge, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bootAck == nil {
		return &types.BootOptionParam_BootInfoAcknowledge{}, nil
	}
	cp := *c.bootAck
	return &cp, nil
}
