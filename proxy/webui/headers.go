package webui

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bmcgate/bmcgate/internal/bmcweb"
)

// Headers pass the proxy by allow-list, in both directions: a request
// header reaches the BMC, and a response header the browser, only when its
// name is on the list below (or on the BMC's own extra list, Config.
// RequestHeaders and ResponseHeaders). Everything else — identity and
// forwarding headers of any spelling (Remote-User, X-Forwarded-*, Via,
// Client-Ip, underscore variants), method overrides, the gateway's own
// headers, and on the way back Alt-Svc, Server, reporting endpoints and
// the BMC's own framing and transport-security policy — is dropped. Names
// are compared in lower case, exactly: "x_forwarded_for" is not
// "x-forwarded-for", and neither is allowed.

// requestAllowed are the request headers a BMC receives: content
// negotiation, caching and conditional requests, cookies (the gateway's
// own removed), Origin and Referer (mapped to the BMC's), the websocket
// handshake, OData versions, and the CSRF headers BMC UIs send back (the
// gateway sets its own BMC session's over them).
var requestAllowed = setOf(
	"accept", "accept-charset", "accept-encoding", "accept-language",
	"cache-control", "pragma", "content-type", "content-length", "content-encoding", "content-language",
	"cookie", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range",
	"origin", "referer", "user-agent", "x-requested-with", "odata-version", "odata-maxversion", "te",
	"sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions",
	"x-csrf-token", "x-xsrf-token", "xsrf-token", "csrf-token", "csrf_token", "x-csrftoken",
)

// requestCredentials carry BMC credentials. They pass only when the
// gateway attaches no BMC session of its own (login: none, where the user
// logs in to the BMC's UI itself); otherwise users never hold BMC
// credentials and the client's are dropped.
var requestCredentials = setOf("x-auth-token", "authorization")

// responseAllowed are the response headers a browser receives from a BMC:
// content and caching metadata, redirects, cookies and links (all three
// rewritten to the public host), the BMC's Content-Security-Policy (the
// gateway adds its own framing policy beside it), the websocket handshake.
var responseAllowed = setOf(
	"accept-ranges", "age", "allow", "cache-control", "pragma", "expires", "date", "etag", "last-modified", "vary",
	"content-type", "content-length", "content-encoding", "content-language", "content-disposition", "content-range",
	"content-location", "location", "refresh", "link", "set-cookie", "retry-after",
	"content-security-policy", "x-content-type-options", "permissions-policy",
	"cross-origin-opener-policy", "cross-origin-embedder-policy", "odata-version",
	"sec-websocket-accept", "sec-websocket-protocol", "sec-websocket-extensions",
	"access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
	"access-control-allow-headers", "access-control-expose-headers", "access-control-max-age",
)

// responseCredentials pass back only without a gateway-held BMC session:
// a BMC's basic-auth prompt and the token of a Redfish login made by the
// BMC's own UI.
var responseCredentials = setOf("www-authenticate", "x-auth-token")

// upgradeHeaders carry a websocket upgrade; they pass on a websocket
// handshake (request) and its 101 answer only.
var upgradeHeaders = setOf("connection", "upgrade")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// headerFilter is one direction's allow-list of a proxy.
type headerFilter struct {
	allowed     map[string]bool // built-in and the BMC's extra names
	credentials map[string]bool // allowed without a gateway-held BMC session
	deny        map[string]bool // the gateway's own header names: never
}

// newHeaderFilter combines a built-in list with a BMC's extra names; an
// extra name the gateway never passes is an error.
func newHeaderFilter(builtin, credentials map[string]bool, extra, gateway []string) (headerFilter, error) {
	f := headerFilter{allowed: map[string]bool{}, credentials: credentials, deny: map[string]bool{}}
	for n := range builtin {
		f.allowed[n] = true
	}
	for _, n := range gateway {
		f.deny[strings.ToLower(n)] = true
	}
	for _, n := range extra {
		if err := bmcweb.CheckExtraHeader(n); err != nil {
			return f, err
		}
		if f.deny[strings.ToLower(n)] {
			return f, fmt.Errorf("%s is the gateway's own header", n)
		}
		f.allowed[strings.ToLower(n)] = true
	}
	return f, nil
}

// filter removes from h in place every header not allowed: credentials
// only pass without a gateway-held session, upgrade headers only on an
// upgrade.
func (f headerFilter) filter(h http.Header, withSession, upgrade bool) {
	for name := range h {
		n := strings.ToLower(name)
		switch {
		case f.deny[n]:
		case f.allowed[n]:
			continue
		case f.credentials[n] && !withSession:
			continue
		case upgradeHeaders[n] && upgrade:
			continue
		}
		delete(h, name)
	}
}

// trailerFilter runs done when the body it wraps ends, before its reader
// sees the end: response trailers are known by then.
type trailerFilter struct {
	io.ReadCloser
	done func()
}

func (t *trailerFilter) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if err == io.EOF && t.done != nil {
		t.done()
		t.done = nil
	}
	return n, err
}

// IsWebsocket reports whether r is a websocket handshake the proxy
// forwards as one: a GET asking for a websocket upgrade and nothing else.
// Any other upgrade request is forwarded as a plain request, its upgrade
// dropped.
func IsWebsocket(r *http.Request) bool {
	return r.Method == http.MethodGet && isWebsocket(r.Header)
}

// isWebsocket reports whether h asks for a websocket upgrade and nothing
// else.
func isWebsocket(h http.Header) bool {
	return headerHasToken(h, "Connection", "upgrade") && strings.EqualFold(strings.TrimSpace(h.Get("Upgrade")), "websocket")
}

// dropUpgrade removes any upgrade request (h2c included) from h.
func dropUpgrade(h http.Header) {
	h.Del("Upgrade")
	h.Del("HTTP2-Settings")
	var keep []string
	for _, v := range h.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !strings.EqualFold(tok, "upgrade") && !strings.EqualFold(tok, "http2-settings") {
				keep = append(keep, tok)
			}
		}
	}
	h.Del("Connection")
	if len(keep) > 0 {
		h.Set("Connection", strings.Join(keep, ", "))
	}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// headerSize approximates the size of a header block on the wire.
func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// removeCookies drops the named cookies from a request's Cookie headers.
func removeCookies(h http.Header, drop func(name string) bool) {
	vals := h.Values("Cookie")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if drop(strings.TrimSpace(name)) {
				continue
			}
			keep = append(keep, part)
		}
	}
	h.Del("Cookie")
	if len(keep) > 0 {
		h.Set("Cookie", strings.Join(keep, "; "))
	}
}
