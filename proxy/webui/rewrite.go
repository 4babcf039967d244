package webui

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// publicOrigin is the browser-side origin of a BMC host.
func publicOrigin(publicHost string) string {
	return "https://" + publicHost
}

// bmcPort returns the BMC port an absolute URL points at, and whether the
// URL points at the BMC at all (its address or its configured host name).
func (t *target) bmcPort(u *url.URL) (int, bool) {
	h := strings.ToLower(u.Hostname())
	if h != t.host && (t.hostName == "" || h != strings.ToLower(t.hostName)) {
		return 0, false
	}
	switch u.Scheme {
	case "https", "http", "wss", "ws", "":
	default:
		return 0, false
	}
	if u.Port() == "" {
		return t.port, true
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, false
	}
	if p != t.port && !t.extra[p] {
		return 0, false
	}
	return p, true
}

// rewriteLocation points a Location (or similar) value that names the BMC at
// the matching public host. Relative values and other hosts are kept.
func (s *reqState) rewriteLocation(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return v
	}
	port, ok := s.p.t.bmcPort(u)
	if !ok {
		return v
	}
	pub := s.publicHostFor(port)
	if pub == "" {
		return v
	}
	u.Host = pub
	switch u.Scheme {
	case "ws", "wss":
		u.Scheme = "wss"
	case "":
	default:
		u.Scheme = "https"
	}
	return u.String()
}

// publicHostFor returns the public host for a BMC port, or "" when the port
// is not mapped.
func (s *reqState) publicHostFor(port int) string {
	if port == s.p.t.port {
		return s.req.PublicHost
	}
	if s.req.PortHost != nil {
		return s.req.PortHost(port)
	}
	return ""
}

// rewriteSetCookies makes the BMC's cookies work on the public host: the
// Domain attribute is removed (the cookie becomes host-only on this BMC's
// public host and never reaches another BMC's host), Secure is set (the
// public side is HTTPS). A cookie the BMC-side session owns is captured
// into the session and never reaches the browser.
func (s *reqState) rewriteSetCookies(h http.Header) {
	vals := h.Values("Set-Cookie")
	if len(vals) == 0 {
		return
	}
	h.Del("Set-Cookie")
	for _, v := range vals {
		c, err := http.ParseSetCookie(v)
		if err != nil {
			continue // malformed: dropped
		}
		if s.p.gwCookies[c.Name] {
			continue // a BMC may not set the gateway's cookies
		}
		if s.req.Session != nil && s.req.Session.ownsCookie(c.Name) {
			s.req.Session.updateCookie(c)
			continue
		}
		c.Domain = ""
		c.Secure = true
		if c.Path == "" {
			c.Path = "/"
		}
		if sv := c.String(); sv != "" {
			h.Add("Set-Cookie", sv)
		}
	}
}

// outboundOrigin maps the browser's Origin and Referer to the BMC's. Only
// the BMC's own public origins map (the BMC host's, and those of its mapped
// extra ports), each to the BMC origin of the same page; Serve refuses
// writes and websockets from other origins before this runs, and for
// reads a foreign Origin or Referer is dropped.
func (s *reqState) outboundOrigin(h http.Header) {
	if o := h.Get("Origin"); o != "" {
		if bo := s.bmcOriginFor(o); bo != "" {
			h.Set("Origin", bo)
		} else {
			h.Del("Origin")
		}
	}
	if ref := h.Get("Referer"); ref != "" {
		h.Del("Referer")
		for _, o := range s.origins() {
			po := o[0]
			if len(ref) >= len(po) && strings.EqualFold(ref[:len(po)], po) && (len(ref) == len(po) || ref[len(po)] == '/') {
				h.Set("Referer", o[1]+ref[len(po):])
				break
			}
		}
	}
}

// hostHeader returns the Host header the BMC receives for port.
func (s *reqState) hostHeader(port int) string {
	t := s.p.t
	switch t.hostMode {
	case HostBMCName:
		return t.bmcNameHost(port)
	case HostPassthrough:
		return s.req.PublicHost
	}
	return t.authority(port)
}

// bmcNameHost is the Host header naming the BMC by its configured host
// name (host mode HostBMCName) for port.
func (t *target) bmcNameHost(port int) string {
	if port == 443 {
		return t.hostName
	}
	return net.JoinHostPort(t.hostName, strconv.Itoa(port))
}

// rewriteCORS keeps a BMC's CORS answer only when it allows one of the
// BMC's own origins, which it names by the BMC's address: that becomes the
// matching public origin. Any other allowed origin ("*", "null", a foreign
// site) is dropped with the rest of the CORS headers: a BMC's UI is served
// from its own origin and needs no other to read it.
func (s *reqState) rewriteCORS(h http.Header) {
	acao := h.Get("Access-Control-Allow-Origin")
	if acao == "" {
		return
	}
	pub := ""
	if u, err := url.Parse(acao); err == nil && u.Path == "" && u.RawQuery == "" {
		if port, ok := s.p.t.bmcPort(u); ok {
			pub = s.publicHostFor(port)
		}
	}
	if pub == "" {
		for name := range h {
			if strings.HasPrefix(strings.ToLower(name), "access-control-") {
				delete(h, name)
			}
		}
		return
	}
	h.Set("Access-Control-Allow-Origin", publicOrigin(pub))
}

// withoutReporting removes the report-uri and report-to directives from a
// Content-Security-Policy: violation reports carry page addresses, and a
// BMC's policy has no business sending them anywhere.
func withoutReporting(csp string) string {
	parts := strings.Split(csp, ";")
	keep := parts[:0]
	for _, d := range parts {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		switch strings.ToLower(name) {
		case "report-uri", "report-to":
			continue
		}
		keep = append(keep, d)
	}
	return strings.Join(keep, ";")
}
