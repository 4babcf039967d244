package bmchost

import (
	"net/http"
	"strings"
)

// BMC hosts share a registrable domain in production (node01.bmc.example.com,
// node02.bmc.example.com, often the gateway's own host too), so to a browser
// they are one site: SameSite cookies travel between them, and one BMC's
// page — whatever its firmware serves — could frame another BMC's UI, or
// send requests to it, with that host's session cookie. The policy per BMC
// host is:
//
//   - Framing: only by the BMC host's own origin. Every answer carries
//     "Content-Security-Policy: frame-ancestors 'self'" (a policy of its
//     own beside the BMC's: browsers enforce both, so the BMC's cannot
//     widen it) and "X-Frame-Options: SAMEORIGIN" for older browsers; the
//     BMC's own X-Frame-Options is dropped by the proxy. A BMC UI made of
//     frames of its own pages keeps working.
//   - Requests from other origins: browsers say where a request comes from
//     (Sec-Fetch-Site) and what it is for (Sec-Fetch-Mode, -Dest). A BMC
//     host answers another site's, or a sibling host's, request only when
//     it is a top-level navigation (GET or HEAD of a document: arriving
//     from the dashboard, a bookmark or a link, visible in the address
//     bar), or when its Origin is one of this BMC's own (a websocket or
//     fetch to one of its extra ports). Frames, scripts, images, fetches
//     and form posts from anywhere else are refused before anything is
//     forwarded: the frame-ancestors check alone would let the BMC see
//     (and act on) the framed request.
//   - The BMC-host cookie is SameSite=Strict: it is never sent with a
//     request another site starts, top-level navigations included (those
//     land on "open this UI from the dashboard").
//
// Browsers without Fetch Metadata send no Sec-Fetch-Site; they still get the
// framing headers and the proxy's Origin check of writes and websockets.

// bmcHostFrameCSP is the framing policy every BMC-host answer carries.
const bmcHostFrameCSP = "frame-ancestors 'self'"

// setBMCHostHeaders sets the headers every answer of a BMC host carries,
// the BMC's or the gateway's own.
func setBMCHostHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Add("Content-Security-Policy", bmcHostFrameCSP)
}

// origins returns a function reporting whether an origin is one of the
// public origins of the BMC called name: its host on the main port, or on a
// mapped extra port.
func (h *Hosts) origins(name string) func(string) bool {
	return func(origin string) bool {
		o := strings.ToLower(origin)
		if o == "https://"+h.cfg().BMCHost(name) {
			return true
		}
		for _, pl := range h.ports {
			if o == "https://"+h.cfg().BMCPortHost(name, pl.publicPort) {
				return true
			}
		}
		return false
	}
}
