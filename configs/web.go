package configs

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Web configures the HTTPS front door: the dashboard, the JSON API and how
// people log in to them (OIDC single sign-on and break-glass local
// accounts). The door is on when listen.https is set.
type Web struct {
	// PublicURL is the origin browsers use to reach the door, like
	// "https://bmcgate.example.com:8443". It is the OIDC redirect base and
	// the only Origin accepted on state-changing requests. Default:
	// https://<listen.https> when that names one host.
	PublicURL string `yaml:"public_url"`
	// TLS names the certificate files; without them a self-signed
	// certificate is generated once into the data directory.
	TLS WebTLS `yaml:"tls"`
	// Session bounds browser sessions.
	Session WebSession `yaml:"session"`
	// APITokens bounds personal API tokens.
	APITokens WebAPITokens `yaml:"api_tokens"`
	// LoginLimits throttle break-glass logins.
	LoginLimits WebLoginLimits `yaml:"login_limits"`
	// PowerCacheTTL is how long the dashboard's power and health summary
	// may be old before it is refreshed (30s).
	PowerCacheTTL Duration `yaml:"power_cache_ttl"`
	// OIDC is single sign-on with an OpenID provider; optional.
	OIDC OIDC `yaml:"oidc"`
	// BreakGlass are local accounts for when the identity provider is down.
	BreakGlass []BreakGlassUser `yaml:"break_glass"`
	// ProxyDomain turns on the BMC web UIs: BMC node01's UI is served at
	// https://node01.<proxy_domain>[:port] (web_proxy.go). Optional.
	ProxyDomain string `yaml:"proxy_domain"`
	// ProxyTLS names a wildcard certificate for *.<proxy_domain>; without
	// it a self-signed one is generated once into the data directory.
	ProxyTLS WebTLS `yaml:"proxy_tls"`
	// ProxyPorts map further BMC ports (KVM) to listeners of their own
	// that serve only BMC hosts (web_ports.go). Optional.
	ProxyPorts []ProxyPort `yaml:"proxy_ports"`

	origin     string // scheme://host[:port] of PublicURL, set by Load
	originPort int    // the port of origin (443 when it names none), set with it
}

// Origin returns the public URL's origin ("https://host:port"), the value
// browsers send in the Origin header.
func (w Web) Origin() string { return w.origin }

// PublicHost returns the public URL's host, lower case, without port or
// IPv6 brackets: the only Host the gateway's own pages answer ("" when the
// web door is off).
func (w Web) PublicHost() string {
	h := strings.TrimPrefix(w.origin, "https://")
	if x, _, err := net.SplitHostPort(h); err == nil {
		return x
	}
	return strings.Trim(h, "[]")
}

// PublicPort returns the public URL's port (443 when it names none; 0 when
// the web door is off): the port browsers write in Host for the gateway's
// pages and the BMC hosts of the main listener.
func (w Web) PublicPort() int { return w.originPort }

// WebTLS names a certificate and its key (PEM). Both or neither.
type WebTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// WebSession bounds browser sessions.
type WebSession struct {
	// IdleTimeout ends a session nobody used for this long (30m).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxLifetime ends every session this long after login (12h).
	MaxLifetime Duration `yaml:"max_lifetime"`
	// RefreshInterval is how often an OIDC session is re-checked with the
	// identity provider (refresh token grant), re-deriving its roles (10m).
	RefreshInterval Duration `yaml:"refresh_interval"`
}

// WebAPITokens bounds personal API tokens.
type WebAPITokens struct {
	// MaxLifetime is the longest expiry a new token may have (720h).
	MaxLifetime Duration `yaml:"max_lifetime"`
}

// WebLoginLimits throttle break-glass logins (see the README's security
// model): per source, per source and account with backoff, per account
// over all sources; browsers that logged in to the account before count
// on their own.
type WebLoginLimits struct {
	// MaxFailures failed logins of one account from one source (or one
	// known browser) within Window make that source wait before its next
	// try (5).
	MaxFailures int `yaml:"max_failures"`
	// Window is the period failures are counted over (15m).
	Window Duration `yaml:"window"`
	// Lockout is the longest such wait (15m); it starts at one minute and
	// doubles with each further failure.
	Lockout Duration `yaml:"lockout"`
	// PerSourcePerMinute bounds login attempts from one address (an IPv6
	// /64), or from one known browser (10).
	PerSourcePerMinute int `yaml:"per_source_per_minute"`
	// PerAccountPerMinute bounds the attempts on one account from browsers
	// it does not know, over all sources: it slows a guesser spread over
	// many addresses and locks nothing (10).
	PerAccountPerMinute int `yaml:"per_account_per_minute"`
}

// Web defaults.
const (
	DefaultWebIdleTimeout     = 30 * time.Minute
	DefaultWebMaxLifetime     = 12 * time.Hour
	DefaultWebRefreshInterval = 10 * time.Minute
	DefaultAPITokenLifetime   = 30 * 24 * time.Hour
	DefaultPowerCacheTTL      = 30 * time.Second
)

// noLoginMessage is the problem of a web door nobody can log in to.
const noLoginMessage = "the web door has no way to log in: configure web.oidc or an enabled web.break_glass account"

// webPresent reports whether any of the web section is written.
func (v *validator) webPresent() bool {
	return v.present("web")
}

// web fills in defaults and checks the web section.
func (v *validator) web() {
	w := &v.c.Web
	on := v.c.Listen.HTTPS != ""
	if !on && !v.webPresent() {
		return
	}
	v.publicURL(on)
	v.webTLS()
	v.webProxy()
	v.webProxyPorts()
	v.webLimits()
	roles := map[string]bool{}
	for _, r := range v.c.Roles {
		roles[r.Name] = true
	}
	v.oidc(roles)
	usable := v.breakGlass(roles)
	v.webBreakGlass = usable
	if on && w.OIDC.Issuer == "" && !usable {
		field := "web"
		if !v.webPresent() {
			field = "listen.https"
		}
		v.probs.add(field, "%s", noLoginMessage)
	}
}

// publicURL checks web.public_url, deriving it from listen.https when absent.
func (v *validator) publicURL(on bool) {
	w := &v.c.Web
	const field = "web.public_url"
	if w.PublicURL == "" {
		if v.present(field) {
			v.probs.add(field, "must not be empty (leave it out to derive it from listen.https)")
			return
		}
		if !on {
			return
		}
		host, port, err := net.SplitHostPort(v.c.Listen.HTTPS)
		if err != nil {
			return // reported at listen.https
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			v.probs.add(field, "required when listen.https listens on every interface: the URL browsers use, like https://bmcgate.example.com:%s", port)
			return
		}
		w.PublicURL = "https://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(w.PublicURL)
	switch {
	case err != nil:
		v.probs.add(field, "not a URL: use https://HOST[:PORT]")
		return
	case u.Scheme != "https":
		v.probs.add(field, "must start with https:// (the web door serves only HTTPS)")
		return
	case u.Host == "" || u.Hostname() == "":
		v.probs.add(field, "has no host: use https://HOST[:PORT]")
		return
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		v.probs.add(field, "must be only https://HOST[:PORT], without user, query or fragment")
		return
	case u.Path != "" && u.Path != "/":
		v.probs.add(field, "must not have a path: the web door is served at the root")
		return
	}
	if p := u.Port(); p != "" {
		if err := checkPort(p); err != nil {
			v.probs.add(field, "%v", err)
			return
		}
	}
	w.origin = "https://" + strings.ToLower(u.Host)
	w.originPort = 443
	if p := u.Port(); p != "" {
		w.originPort, _ = strconv.Atoi(p) // checked above
	}
	if u.Port() == "443" {
		w.origin = "https://" + strings.ToLower(u.Hostname())
	}
	w.PublicURL = w.origin
}

// webTLS checks that both or neither certificate files are given.
func (v *validator) webTLS() { v.certKeyPair("web.tls", &v.c.Web.TLS) }

// certKeyPair checks that both or neither files of the certificate at
// field ("web.tls") are given, and resolves their paths.
func (v *validator) certKeyPair(field string, t *WebTLS) {
	switch {
	case t.CertFile != "" && t.KeyFile != "":
		t.CertFile, t.KeyFile = v.resolve(t.CertFile), v.resolve(t.KeyFile)
	case t.CertFile != "":
		v.probs.add(fieldPath(field, "key_file"), "required with cert_file")
	case t.KeyFile != "":
		v.probs.add(fieldPath(field, "cert_file"), "required with key_file")
	}
}

// webLimits fills in the session, token, login-limit and cache defaults and
// checks their ranges.
func (v *validator) webLimits() {
	w := &v.c.Web
	durs := []durationLimit{
		{"session.idle_timeout", &w.Session.IdleTimeout, DefaultWebIdleTimeout, time.Minute, 24 * time.Hour},
		{"session.max_lifetime", &w.Session.MaxLifetime, DefaultWebMaxLifetime, 5 * time.Minute, 7 * 24 * time.Hour},
		{"session.refresh_interval", &w.Session.RefreshInterval, DefaultWebRefreshInterval, time.Minute, 24 * time.Hour},
		{"api_tokens.max_lifetime", &w.APITokens.MaxLifetime, DefaultAPITokenLifetime, time.Hour, 366 * 24 * time.Hour},
		{"login_limits.window", &w.LoginLimits.Window, 15 * time.Minute, time.Minute, 24 * time.Hour},
		{"login_limits.lockout", &w.LoginLimits.Lockout, 15 * time.Minute, time.Minute, 24 * time.Hour},
		{"power_cache_ttl", &w.PowerCacheTTL, DefaultPowerCacheTTL, time.Second, 10 * time.Minute},
	}
	bad := map[string]bool{}
	v.checkDurations("web", durs, bad)
	ints := []intLimit{
		{"login_limits.max_failures", &w.LoginLimits.MaxFailures, 5, 1, 100},
		{"login_limits.per_source_per_minute", &w.LoginLimits.PerSourcePerMinute, 10, 1, 1000},
		{"login_limits.per_account_per_minute", &w.LoginLimits.PerAccountPerMinute, 10, 1, 1000},
	}
	v.checkInts("web", ints, nil)
	if !bad["session.idle_timeout"] && !bad["session.max_lifetime"] && w.Session.IdleTimeout.Duration > w.Session.MaxLifetime.Duration {
		v.probs.add("web.session.idle_timeout", "%s is longer than max_lifetime (%s)", w.Session.IdleTimeout, w.Session.MaxLifetime)
	}
}
