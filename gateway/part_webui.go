package gateway

import (
	"context"
	"sync"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/bmchost"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/web"
)

// openWebUI builds the BMC web UI brokers when the web door is on and
// web.proxy_domain is set, and hands them to the BMC web UI hosts
// (gateway/bmchost), which serve each BMC's UI on <bmc>.<proxy_domain> on
// the web door's listener.
func openWebUI(_ context.Context, g *Gateway, cfg *configs.Config) (part, error) {
	if g.web == nil || cfg.Web.ProxyDomain == "" {
		return nil, nil
	}
	p := &webUIPart{g: g}
	set, err := p.build(cfg)
	if err != nil {
		return nil, err
	}
	p.cur = set
	g.web.BMCHosts().SetUIs(set)
	return p, nil
}

// webUIs is one generation of BMC web UI brokers (one per configured BMC
// web section), replaced as a whole on reload.
type webUIs struct {
	m      map[string]*assemble.BMCWeb
	cancel context.CancelFunc // ends the pools' Run (logging their sessions out)
}

// UI returns the broker of the BMC called name.
func (u *webUIs) UI(name string) (bmchost.UI, bool) {
	b, ok := u.m[name]
	if !ok {
		return bmchost.UI{}, false
	}
	return bmchost.UI{Proxy: b.Proxy, Pool: b.Pool}, true
}

// Release logs out the BMC-side sessions of a user session on every BMC.
func (u *webUIs) Release(ctx context.Context, key string) {
	for _, b := range u.m {
		if b.Pool != nil {
			b.Pool.Release(ctx, key)
		}
	}
}

// close logs out every BMC-side session and drops idle connections.
func (u *webUIs) close(ctx context.Context) {
	if u.cancel != nil {
		u.cancel()
	}
	for _, b := range u.m {
		if b.Pool != nil {
			b.Pool.Close(ctx)
		}
		b.Proxy.Close()
	}
}

// webUIPart runs the BMC web UI brokers: the pools' idle sweeps and the
// periodic re-check of BMC-host sessions against the policy.
type webUIPart struct {
	g *Gateway

	mu     sync.Mutex
	cur    *webUIs
	runCtx context.Context // set by Run; pools of later generations run under it
}

// build makes the brokers of every BMC with a web section.
func (p *webUIPart) build(cfg *configs.Config) (*webUIs, error) {
	set := &webUIs{m: map[string]*assemble.BMCWeb{}}
	for _, b := range cfg.BMCs {
		if !b.WebUI.Enabled() {
			continue
		}
		if cfg.Web.BMCHost(b.Name) == "" {
			p.g.log.Warn("BMC web UI off: the BMC's name cannot be a host name (use a-z, 0-9 and '-')", "bmc", b.Name)
			continue
		}
		br, err := assemble.NewBMCWeb(b, cfg.WebProfiles, web.GatewayCookies(), nil, p.g.log)
		if err != nil {
			set.close(context.Background())
			return nil, err
		}
		set.m[b.Name] = br
	}
	return set, nil
}

// start runs the pools of set under ctx.
func (set *webUIs) start(ctx context.Context) {
	ctx, set.cancel = context.WithCancel(ctx)
	for _, b := range set.m {
		if b.Pool != nil {
			go b.Pool.Run(ctx)
		}
	}
}

func (p *webUIPart) Run(ctx context.Context) error {
	p.mu.Lock()
	p.runCtx = ctx
	p.cur.start(ctx)
	p.mu.Unlock()
	p.g.web.BMCHosts().Run(ctx)
	return nil
}

// Reload replaces the brokers; BMC-side sessions of the old ones are logged
// out and open again on the next request. Live websockets keep running
// until the session re-check ends them.
func (p *webUIPart) Reload(ctx context.Context, cfg *configs.Config, _ *service.State) {
	set, err := p.build(cfg)
	if err != nil {
		p.g.log.Error("BMC web UIs not reloaded; keeping the running ones", "err", err)
		return
	}
	p.mu.Lock()
	old := p.cur
	p.cur = set
	if p.runCtx != nil {
		set.start(p.runCtx)
	}
	p.mu.Unlock()
	p.g.web.BMCHosts().SetUIs(set)
	old.close(ctx)
}

func (p *webUIPart) Close() {
	p.mu.Lock()
	cur := p.cur
	p.mu.Unlock()
	cur.close(context.Background())
}
