package gateway

import (
	"context"
	"sync/atomic"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/console"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// consoleDoor forwards the SSH door's console requests to the hub while the
// console part runs.
type consoleDoor struct {
	hub atomic.Pointer[console.Hub]
	svc *service.Service // set by Open before the doors serve: checks the audit log's headroom
}

var errConsolesOff = &service.UserError{Msg: "consoles are disabled on this gateway"}

// Attach implements sshd.ConsoleService.
func (d *consoleDoor) Attach(ctx context.Context, c service.Caller, bmc string, t console.Terminal, takeover bool) error {
	h := d.hub.Load()
	if h == nil {
		return errConsolesOff
	}
	if d.svc != nil {
		if err := d.svc.Headroom(); err != nil {
			return err
		}
	}
	return h.Attach(ctx, c, bmc, t, takeover)
}

// consolePart runs the console hub as a gateway part.
type consolePart struct {
	g   *Gateway
	hub *console.Hub
}

// openConsole starts the console subsystem when the config enables it.
func openConsole(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	if !cfg.Console.Enabled {
		return nil, nil
	}
	h := console.New(g.svc, assemble.ConsoleConfig(cfg, g.log))
	g.consoles.hub.Store(h)
	return &consolePart{g: g, hub: h}, nil
}

func (p *consolePart) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Reload re-checks attached viewers against the new state (policy and
// accounts). Console settings themselves change on restart.
func (p *consolePart) Reload(ctx context.Context, _ *configs.Config, _ *service.State) {
	p.hub.Reload(ctx)
}

func (p *consolePart) Close() {
	p.g.consoles.hub.CompareAndSwap(p.hub, nil)
	p.hub.Close()
}
