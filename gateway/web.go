package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/web"
	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
)

// webClock is the web door's clock; nil is time.Now. Tests set it before
// they open a gateway, to step session lifetimes without waiting.
var webClock func() time.Time

// openWeb starts the HTTPS front door when listen.https is set.
func openWeb(ctx context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	if cfg.Listen.HTTPS == "" {
		return nil, nil
	}
	s, err := web.New(web.Options{Config: cfg, Service: g.svc, Logger: g.log, Now: webClock})
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

// HashBreakGlassPassword makes an argon2id hash for a web.break_glass
// password_hash (used by "bmcgate passwd").
func HashBreakGlassPassword(password []byte) (string, error) {
	return breakglass.HashPassword(password, breakglass.DefaultParams)
}

// CheckBreakGlassPassword reports whether password matches an argon2id hash.
func CheckBreakGlassPassword(hash string, password []byte) (bool, error) {
	h, err := breakglass.ParseHash(hash)
	if err != nil {
		return false, err
	}
	return h.Verify(password), nil
}

// NewTOTPSecret returns a new random TOTP secret in base32, as
// authenticator apps take it.
func NewTOTPSecret() (string, error) {
	_, b32, err := breakglass.NewKey()
	return b32, err
}
