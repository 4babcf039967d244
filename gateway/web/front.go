package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
)

// The front of every listener (gateway/httpfront): the request target's
// length, then the Host and port against what is configured. The main
// listener answers the host and port of web.public_url (the gateway's own
// pages) and, with web.proxy_domain, <bmc>.<proxy_domain> on the same public
// port (BMC hosts); a proxy_ports listener answers BMC hosts on its public
// port only. Anything else is a misdirected request (421).

// route is the main listener's handler: it bounds the request target and
// sends each request to the gateway's pages or to a BMC host, or refuses it.
func (s *Server) route(main http.Handler) http.Handler {
	w0 := s.cfg.Load()
	domain := w0.ProxyDomain
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if s.front.URITooLong(rw, r) {
			return
		}
		host, port, ok := httpfront.HostPort(r.Host)
		if !ok {
			s.front.Misdirected(rw, r, "malformed Host header")
			return
		}
		w := s.cfg.Load()
		sni := httpfront.SNI(r)
		if httpfront.UnderDomain(host, domain) || httpfront.UnderDomain(sni, domain) {
			if !s.front.BMCHostRequest(rw, r, host, port, w.PublicPort()) {
				return
			}
			s.bmc.ServeHost(rw, r, w.BMCFromHost(host), 0)
			return
		}
		if host != w.PublicHost() || port != w.PublicPort() {
			s.front.Misdirected(rw, r, "host "+truncate(r.Host, 96)+" is not the public URL's")
			return
		}
		// Without a server name the client reached the gateway by address,
		// which serves only a public URL that is an address.
		if sni != "" && sni != host || sni == "" && r.TLS != nil && net.ParseIP(host) == nil {
			s.front.Misdirected(rw, r, "TLS server name does not match the Host header")
			return
		}
		// The gateway's pages make same-origin requests only; from other
		// sites (BMC hosts included, which are often the same site) only
		// top-level navigations are answered (httpfront.CrossSiteRefusal).
		if why := httpfront.CrossSiteRefusal(r, func(o string) bool { return strings.EqualFold(o, w.Origin()) }); why != "" {
			s.front.Refusal(r, "gateway page: "+why)
			httpfront.PlainError(rw, http.StatusForbidden, "This page cannot be embedded in or used from another site.")
			return
		}
		main.ServeHTTP(rw, r)
	})
}

// note writes a refusal or failure record through the aggregator
// (httpfront.Front.Note).
func (s *Server) note(r *http.Request, class string, rec audit.Record) { s.front.Note(r, class, rec) }
