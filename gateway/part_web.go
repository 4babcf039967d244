package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/web"
)

// webClock is the web door's clock; nil is time.Now. Tests set it before
// they open a gateway, to step session lifetimes without waiting.
var webClock func() time.Time

// openWeb starts the HTTPS front door when listen.https is set.
func openWeb(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	if cfg.Listen.HTTPS == "" {
		return nil, nil
	}
	o := web.Options{Config: cfg, Service: g.svc, Logger: g.log, Now: webClock}
	if g.certs != nil {
		o.Certs = g.certs
	}
	s, err := web.New(o)
	if err != nil {
		return nil, fmt.Errorf("web door: %w", err)
	}
	if err := s.Listen(cfg.Listen.HTTPS); err != nil {
		s.Close()
		return nil, err
	}
	g.web = s
	g.log.Info("web door", "https", s.Addr(), "public_url", cfg.Web.PublicURL)
	return webPart{s}, nil
}

// webPart adapts the web server to the gateway's part interface.
type webPart struct{ s *web.Server }

func (p webPart) Run(ctx context.Context) error { return p.s.Run(ctx) }
func (p webPart) Reload(_ context.Context, cfg *configs.Config, _ *service.State) {
	p.s.Reload(cfg)
}
func (p webPart) Close() { p.s.Close() }

// Web returns the web front door, or nil when it is off (tests, and the
// BMC web UI proxy that mounts its pages on it).
func (g *Gateway) Web() *web.Server { return g.web }
