package web

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
)

// maxRequestURI bounds the request target (path and query) on every
// listener of the web door. Longer ones are answered 414 before anything
// else reads them, so no handler can reflect more than this into a header
// (Location) or a record.
const maxRequestURI = 8 << 10

// The front of every listener: the request target's length, then the Host
// and port against what is configured. The main listener answers the host
// and port of web.public_url (the gateway's own pages) and, with
// web.proxy_domain, <bmc>.<proxy_domain> on the same public port (BMC
// hosts); a proxy_ports listener answers BMC hosts on its public port only.
// Anything else is a misdirected request (421): browsers retry those on a
// fresh connection, and nothing of the gateway answers a name it does not
// serve (DNS rebinding, a stray CNAME, a port scan by name).

// hostPort splits a Host header into its lower-case host and port; the port
// is 443, the default of https, when the header names none. ok is false for
// a malformed header.
func hostPort(h string) (host string, port int, ok bool) {
	h = strings.ToLower(h)
	if h == "" {
		return "", 0, false
	}
	if x, p, err := net.SplitHostPort(h); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || x == "" {
			return "", 0, false
		}
		return x, n, true
	}
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		return "", 0, false // a colon without a port
	}
	return strings.Trim(h, "[]"), 443, true
}

// sniOf is the server name the TLS client asked for, lower case ("" without
// TLS or without SNI).
func sniOf(r *http.Request) string {
	if r.TLS == nil {
		return ""
	}
	return strings.ToLower(r.TLS.ServerName)
}

// misdirected answers a request for a host or port this listener does not
// serve, with a plain message, and records the refusal (aggregated).
func (s *Server) misdirected(w http.ResponseWriter, r *http.Request, why string) {
	s.refusal(r, "misdirected request: "+why)
	plainError(w, http.StatusMisdirectedRequest, "This server does not answer for this host and port.")
}

// uriTooLong answers a request whose target is longer than maxRequestURI.
func (s *Server) uriTooLong(w http.ResponseWriter, r *http.Request) bool {
	if len(r.RequestURI) <= maxRequestURI {
		return false
	}
	s.refusal(r, "request target longer than "+strconv.Itoa(maxRequestURI)+" bytes")
	plainError(w, http.StatusRequestURITooLong, "The request address is too long.")
	return true
}

// plainError writes a short text answer with the headers every gateway
// answer carries.
func plainError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	http.Error(w, msg, status)
}

// front is the main listener's handler: it bounds the request target and
// sends each request to the gateway's pages or to a BMC host, or refuses it.
func (s *Server) front(main http.Handler) http.Handler {
	w0 := s.cfg.Load()
	domain := w0.ProxyDomain
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if s.uriTooLong(rw, r) {
			return
		}
		host, port, ok := hostPort(r.Host)
		if !ok {
			s.misdirected(rw, r, "malformed Host header")
			return
		}
		w := s.cfg.Load()
		sni := sniOf(r)
		if underDomain(host, domain) || underDomain(sni, domain) {
			if !s.bmcHostRequest(rw, r, host, port, w.PublicPort()) {
				return
			}
			s.serveBMCHost(rw, r, w.BMCFromHost(host), 0)
			return
		}
		if host != w.PublicHost() || port != w.PublicPort() {
			s.misdirected(rw, r, "host "+truncate(r.Host, 96)+" is not the public URL's")
			return
		}
		// Without a server name the client reached the gateway by address,
		// which serves only a public URL that is an address.
		if sni != "" && sni != host || sni == "" && r.TLS != nil && net.ParseIP(host) == nil {
			s.misdirected(rw, r, "TLS server name does not match the Host header")
			return
		}
		// The gateway's pages make same-origin requests only; from other
		// sites (BMC hosts included, which are often the same site) only
		// top-level navigations are answered (bmchost_frame.go).
		if why := crossSiteRefusal(r, func(o string) bool { return strings.EqualFold(o, w.Origin()) }); why != "" {
			s.refusal(r, "gateway page: "+why)
			plainError(rw, http.StatusForbidden, "This page cannot be embedded in or used from another site.")
			return
		}
		main.ServeHTTP(rw, r)
	})
}

// bmcHostRequest checks the connection and Host of a request to a BMC host
// on a listener whose public port is port: a connection opened for one BMC
// host serves that host only (no other BMC's or the gateway's pages through
// another Host or an absolute URI), on HTTP/1.1 only (the BMC hosts'
// certificate is offered with HTTP/1.1 alone; HTTP/2 arrives only on a
// connection made for another name), and only on the listener's own port.
// It answers and reports false when the request is refused.
func (s *Server) bmcHostRequest(w http.ResponseWriter, r *http.Request, host string, port, want int) bool {
	switch {
	case sniOf(r) != host:
		s.misdirected(w, r, "TLS server name does not match the BMC host")
	case r.ProtoMajor != 1:
		s.misdirected(w, r, "BMC hosts speak HTTP/1.1 only")
	case port != want:
		s.misdirected(w, r, "port "+strconv.Itoa(port)+" is not this listener's public port")
	default:
		return true
	}
	return false
}

// refusal records a request refused before any authentication (a host,
// port or target the door does not serve; a cross-site request to a BMC
// host), aggregated: one record per source and reason per interval.
func (s *Server) refusal(r *http.Request, reason string) {
	s.note(r, reason, audit.Record{Code: audit.CodeDecision, Door: audit.DoorWeb, Source: remoteIP(r),
		Outcome: audit.OutcomeDeny, Reason: "request refused: " + reason})
}

// note writes a refusal or failure record through the aggregator: the
// first of its kind (code, door, actor, source, class) in an interval at
// once, its repeats as one summary with their count. Anyone can make the
// door refuse things as fast as the network allows; this keeps them from
// filling the audit log.
func (s *Server) note(r *http.Request, class string, rec audit.Record) {
	if err := s.refused.Note(r.Context(), class, rec); err != nil {
		s.log.Warn("could not record a refused web request", "err", err)
	}
}
