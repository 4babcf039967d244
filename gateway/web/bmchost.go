package web

import (
	"context"
	"crypto/tls"
	"strings"
	"sync"

	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// BMC web UIs are served on a host of their own per BMC,
// <bmc>.<web.proxy_domain>, on the web door's listener. The main host hands
// a logged-in user over to a BMC host with a one-time ticket
// (bmchost_ticket.go); the BMC host then knows the browser by a cookie of its
// own, mapped server-side to the user's session and that BMC
// (bmchost_session.go), and forwards each request through the BMC's proxy
// (bmchost_serve.go). Nothing of the gateway's own pages, API or static files
// is reachable on a BMC host, and the main session cookie is never read
// there.

// BMCHostCookie is the host-only cookie of a BMC web UI host. Its __Host-
// prefix makes browsers keep it to the one BMC host that set it.
const BMCHostCookie = "__Host-bmcgate-bmc"

// gatewayCookiePrefix starts every cookie the gateway sets; all are removed
// from requests before they are forwarded to a BMC.
const gatewayCookiePrefix = "__Host-bmcgate"

// enterPath is the BMC-host endpoint that redeems a ticket; reservedPrefix
// is the BMC-host path space the gateway keeps for itself.
const (
	enterPath      = "/.bmcgate/enter"
	reservedPrefix = "/.bmcgate/"
)

// BMCUI is one BMC's web UI broker: its proxy and, when the gateway logs in
// to the BMC's UI, the pool of BMC-side sessions (nil otherwise).
type BMCUI struct {
	Proxy *webui.Proxy
	Pool  *webui.Pool
}

// BMCUIs are the BMC web UI brokers the server routes BMC hosts to; the
// gateway builds them from config and swaps them on reload.
type BMCUIs interface {
	// UI returns the broker of the BMC called name.
	UI(name string) (BMCUI, bool)
	// Release logs out the BMC-side sessions held for a user session key
	// on every BMC.
	Release(ctx context.Context, key string)
}

// GatewayCookies are the names of the cookies the web door sets, for the
// BMC proxy to keep out of BMC responses and requests.
func GatewayCookies() []string {
	return []string{SessionCookie, PreLoginCookie, BMCHostCookie, DeviceCookie}
}

// bmcHosts is the state of the BMC web UI hosts: the brokers, the tickets
// in flight and the BMC-host sessions.
type bmcHosts struct {
	mu      sync.Mutex
	uis     BMCUIs
	tickets map[[32]byte]ticket
	hosts   map[[32]byte]*hostSession
	ports   []*portListener // web.proxy_ports, fixed at start (bmchost_ports.go)
}

// SetBMCUIs installs (or, on reload, replaces) the BMC web UI brokers.
func (s *Server) SetBMCUIs(u BMCUIs) {
	s.bmc.mu.Lock()
	s.bmc.uis = u
	s.bmc.mu.Unlock()
	s.recheckBMCHosts(context.Background())
}

func (s *Server) bmcUI(name string) (BMCUI, bool) {
	s.bmc.mu.Lock()
	u := s.bmc.uis
	s.bmc.mu.Unlock()
	if u == nil {
		return BMCUI{}, false
	}
	return u.UI(name)
}

// WebUIHost returns the public host of a BMC's web UI ("" when
// web.proxy_domain is off or the name cannot be a host label).
func (s *Server) WebUIHost(name string) string { return s.cfg.Load().BMCHost(name) }

// setupBMCHosts prepares the BMC-host state and, when web.proxy_domain is
// set, adds the wildcard certificate for BMC hosts, offered with HTTP/1.1
// alone (front.go routes the requests). Called once from New.
func (s *Server) setupBMCHosts(dataDir string) error {
	s.bmc.tickets = map[[32]byte]ticket{}
	s.bmc.hosts = map[[32]byte]*hostSession{}
	w := s.cfg.Load()
	if w.ProxyDomain == "" {
		return nil
	}
	cert, err := loadProxyCertificate(w.ProxyTLS.CertFile, w.ProxyTLS.KeyFile, dataDir, w.ProxyDomain, s.log)
	if err != nil {
		return err
	}
	base := s.http.TLSConfig
	bmcConf := base.Clone()
	bmcConf.Certificates = []tls.Certificate{cert}
	// HTTP/1.1 only on BMC hosts: websockets (KVM consoles) need the
	// Upgrade handshake, which HTTP/2 does not carry.
	bmcConf.NextProtos = []string{"http/1.1"}
	s.setupBMCPorts(w, bmcConf)
	base.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		if httpfront.UnderDomain(hi.ServerName, w.ProxyDomain) {
			return bmcConf, nil
		}
		return nil, nil
	}
	return nil
}

// bmcFormAction is the CSP form-action source of the BMC hosts: the main
// host's "Open web UI" form redirects there.
func (s *Server) bmcFormAction() string {
	w := s.cfg.Load()
	h := w.BMCHost("x")
	if h == "" {
		return ""
	}
	return " https://*" + strings.TrimPrefix(h, "x")
}
