package webui

import "strings"

// ServesPort reports whether the proxy forwards to port of its BMC: the
// URL's port or one of Config.ExtraPorts. The gateway uses it to answer
// 404 on a port listener for a BMC that does not list the port.
func (p *Proxy) ServesPort(port int) bool { return port == p.t.port || p.t.extra[port] }

// origins pairs each public origin of the BMC (its host's, then each mapped
// extra port's) with the BMC origin of the same port, as a browser talking
// to the BMC directly would send it. It is built once per request.
func (s *reqState) origins() [][2]string {
	if s.origs == nil {
		s.origs = s.buildOrigins()
	}
	return s.origs
}

func (s *reqState) buildOrigins() [][2]string {
	t := s.p.t
	out := [][2]string{{publicOrigin(s.req.PublicHost), "https://" + s.hostHeader(t.port)}}
	if s.req.PortHost == nil {
		return out
	}
	for p := range t.extra {
		if ph := s.req.PortHost(p); ph != "" {
			out = append(out, [2]string{publicOrigin(ph), "https://" + s.hostHeader(p)})
		}
	}
	return out
}

// bmcOriginFor maps an Origin the browser sent to the BMC's origin of the
// same page, or "" when it is none of the BMC's public origins: a page of
// the BMC host opening a websocket on an extra port keeps its own origin,
// the BMC UI's.
func (s *reqState) bmcOriginFor(origin string) string {
	for _, o := range s.origins() {
		if strings.EqualFold(origin, o[0]) {
			return o[1]
		}
	}
	return ""
}
