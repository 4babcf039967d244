// Package httpfront is the front of every HTTPS listener of the web doors
// (the main door, gateway/web, and the BMC web UI hosts, gateway/bmchost):
// Host and port parsing, the bound on the request target, the answer to a
// misdirected request, the Fetch Metadata check of cross-site requests and
// the aggregated record of a refusal. Both doors serve on listeners the
// main door opens; what they must agree on about a request before either
// reads it lives here, once.
package httpfront

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
)

// MaxRequestURI bounds the request target (path and query) on every
// listener of the web doors. Longer ones are answered 414 before anything
// else reads them, so no handler can reflect more than this into a header
// (Location) or a record.
const MaxRequestURI = 8 << 10

// HostPort splits a Host header into its lower-case host and port; the port
// is 443, the default of https, when the header names none. ok is false for
// a malformed header.
func HostPort(h string) (host string, port int, ok bool) {
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

// SNI is the server name the TLS client asked for, lower case ("" without
// TLS or without SNI).
func SNI(r *http.Request) string {
	if r.TLS == nil {
		return ""
	}
	return strings.ToLower(r.TLS.ServerName)
}

// UnderDomain reports whether host is a name below domain.
func UnderDomain(host, domain string) bool {
	return domain != "" && strings.HasSuffix(strings.ToLower(host), "."+domain)
}

// RemoteIP is the client's address without its port.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// PlainError writes a short text answer with the headers every gateway
// answer carries.
func PlainError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Strict-Transport-Security", "max-age=63072000")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	http.Error(w, msg, status)
}

// CrossSiteRefusal returns why a request from another origin is refused,
// or "" when it may proceed: requests without Fetch Metadata (older
// browsers, tools), same-origin ones and those the user started (typed,
// bookmarked) pass; from another site (BMC hosts are often the same site
// as each other and as the gateway) only a top-level navigation (GET or
// HEAD of a document), or a request whose Origin own accepts, passes.
// Frames, scripts, images, fetches and form posts from anywhere else are
// refused before any handler sees them. own reports whether an origin
// ("https://host[:port]") is one of the listener's own.
func CrossSiteRefusal(r *http.Request, own func(origin string) bool) string {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin", "none":
		return ""
	}
	mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	if mode == "navigate" && (dest == "document" || dest == "") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return ""
	}
	if o := r.Header.Get("Origin"); o != "" && own(o) {
		return ""
	}
	what := dest
	if what == "" || what == "empty" {
		what = mode
	}
	if len(what) > 32 {
		what = what[:32]
	}
	return site + " " + strings.ToLower(what) + " request"
}

// Noter writes a refusal or failure record through an aggregator
// (*refusals.Aggregator): the first of its kind in an interval at once,
// its repeats as one summary.
type Noter interface {
	Note(ctx context.Context, class string, rec audit.Record) error
}

// Front records and answers what a listener refuses before any
// authentication. The doors on one listener share one, so that refusals
// are aggregated together.
type Front struct {
	Notes Noter
	Log   *slog.Logger
}

// Note writes a refusal or failure record through the aggregator. Anyone
// can make a door refuse things as fast as the network allows; this keeps
// them from filling the audit log.
func (f Front) Note(r *http.Request, class string, rec audit.Record) {
	if err := f.Notes.Note(r.Context(), class, rec); err != nil {
		f.Log.Warn("could not record a refused web request", "err", err)
	}
}

// Refusal records a request refused before any authentication (a host,
// port or target the door does not serve; a cross-site request),
// aggregated: one record per source and reason per interval.
func (f Front) Refusal(r *http.Request, reason string) {
	f.Note(r, reason, audit.Record{Code: audit.CodeDecision, Door: audit.DoorWeb, Source: RemoteIP(r),
		Outcome: audit.OutcomeDeny, Reason: "request refused: " + reason})
}

// Misdirected answers a request for a host or port this listener does not
// serve, with a plain message, and records the refusal (aggregated).
// Browsers retry a 421 on a fresh connection, and nothing of the gateway
// answers a name it does not serve (DNS rebinding, a stray CNAME, a port
// scan by name).
func (f Front) Misdirected(w http.ResponseWriter, r *http.Request, why string) {
	f.Refusal(r, "misdirected request: "+why)
	PlainError(w, http.StatusMisdirectedRequest, "This server does not answer for this host and port.")
}

// URITooLong answers a request whose target is longer than MaxRequestURI
// and reports whether it did.
func (f Front) URITooLong(w http.ResponseWriter, r *http.Request) bool {
	if len(r.RequestURI) <= MaxRequestURI {
		return false
	}
	f.Refusal(r, "request target longer than "+strconv.Itoa(MaxRequestURI)+" bytes")
	PlainError(w, http.StatusRequestURITooLong, "The request address is too long.")
	return true
}

// BMCHostRequest checks the connection and Host of a request to a BMC host
// on a listener whose public port is want: a connection opened for one BMC
// host serves that host only (no other BMC's or the gateway's pages through
// another Host or an absolute URI), on HTTP/1.1 only (the BMC hosts'
// certificate is offered with HTTP/1.1 alone; HTTP/2 arrives only on a
// connection made for another name), and only on the listener's own port.
// It answers and reports false when the request is refused.
func (f Front) BMCHostRequest(w http.ResponseWriter, r *http.Request, host string, port, want int) bool {
	switch {
	case SNI(r) != host:
		f.Misdirected(w, r, "TLS server name does not match the BMC host")
	case r.ProtoMajor != 1:
		f.Misdirected(w, r, "BMC hosts speak HTTP/1.1 only")
	case port != want:
		f.Misdirected(w, r, "port "+strconv.Itoa(port)+" is not this listener's public port")
	default:
		return true
	}
	return false
}
