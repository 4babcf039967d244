package assemble

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// BMCWeb is one BMC's web UI broker: the proxy and, when the BMC is logged
// in to, its pool of BMC-side sessions (nil for login: none).
type BMCWeb struct {
	Proxy *webui.Proxy
	Pool  *webui.Pool
}

// NewBMCWeb builds the web UI broker of b from its config. The gateway
// logs in with the BMC's ipmi account; that account is protected from
// changes through the proxy.
func NewBMCWeb(b configs.BMC, profiles []configs.WebProfile, gatewayCookies, gatewayHeaders []string, log *slog.Logger) (*BMCWeb, error) {
	w := b.WebUI
	if !w.Enabled() {
		return nil, errors.New("gateway: " + b.Name + " has no web section")
	}
	cfg := webui.Config{
		Name:            b.Name,
		URL:             w.URL,
		HostHeader:      webui.HostMode(w.HostHeader),
		HostName:        w.HostName,
		ExtraPorts:      w.ExtraPorts,
		RewriteBody:     w.RewriteBody,
		GatewayCookies:  gatewayCookies,
		GatewayHeaders:  gatewayHeaders,
		RequestHeaders:  w.RequestHeaders,
		ResponseHeaders: w.ResponseHeaders,
		Logger:          log,
		TLS: webui.TLS{
			PinSHA256:                   w.TLS.PinSHA256,
			Roots:                       w.CAPool(),
			ServerName:                  w.TLS.ServerName,
			InsecureSkipVerifyDangerous: w.TLS.InsecureSkipVerifyDangerous,
		},
	}
	if w.TLS.CAFile != "" && cfg.TLS.Roots == nil {
		return nil, fmt.Errorf("gateway: %s: the CA file was not loaded", b.Name)
	}
	p, err := webui.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	user, pass := webAccount(b)
	p.SetAccountGuard(webui.NewAccountGuard(user))
	out := &BMCWeb{Proxy: p}
	if w.Login == configs.WebLoginNone {
		return out, nil
	}
	prof := webProfile(w.Login, profiles)
	if prof == nil {
		return nil, fmt.Errorf("gateway: %s: unknown web login %q", b.Name, w.Login)
	}
	out.Pool, err = p.NewPool(webui.PoolConfig{
		Profile:     prof,
		Credentials: webui.Credentials{Username: user, Password: pass},
		MaxSessions: w.MaxSessions,
		IdleTimeout: w.IdleTimeout.Duration,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", b.Name, err)
	}
	return out, nil
}

// webProfile returns the login profile called name: a shipped one, or one
// defined in the config's web_profiles.
func webProfile(name string, custom []configs.WebProfile) *webui.Profile {
	if p := webui.Builtin(name); p != nil {
		return p
	}
	for _, c := range custom {
		if c.Name != name {
			continue
		}
		p := &webui.Profile{Name: c.Name, Doc: c.Doc}
		for _, s := range c.Login {
			p.Login = append(p.Login, webStep(s))
		}
		if c.Logout.Method != "" {
			s := webStep(c.Logout)
			p.Logout = &s
		}
		for _, r := range c.Replay {
			p.Replay = append(p.Replay, webui.Replay{As: r.As, Name: r.Name, Var: r.Var})
		}
		return p
	}
	return nil
}

func webStep(s configs.WebProfileStep) webui.Step {
	out := webui.Step{
		Method: s.Method, Path: s.Path, Headers: s.Headers, ContentType: s.ContentType,
		Body: s.Body, Expect: s.Expect, RequireJSON: s.RequireJSON,
	}
	for _, c := range s.Capture {
		out.Capture = append(out.Capture, webui.Capture{Var: c.Var, From: webui.Source(c.From), Name: c.Name, Optional: c.Optional})
	}
	return out
}

// webAccount is the BMC account the gateway logs in to the web UI with:
// the IPMI account, or the Redfish one on a BMC without IPMI settings (BMC
// accounts are shared between IPMI, Redfish and the web UI).
func webAccount(b configs.BMC) (user, password string) {
	if b.HasIPMI() {
		return b.IPMI.Username, b.Password().Reveal()
	}
	return b.Redfish.Username, b.RedfishPassword().Reveal()
}
