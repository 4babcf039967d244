package web

import (
	"net/http"
	"strings"
)

// strippedHeaders are request headers a client may not send to a BMC:
// identity and forwarding headers, credentials (the proxy attaches the
// BMC session itself) and method overrides that would make a read look
// like a write to the BMC. Names are lower case with '_' written as '-'.
var strippedHeaders = map[string]bool{
	"forwarded":              true,
	"x-real-ip":              true,
	"x-client-ip":            true,
	"true-client-ip":         true,
	"cf-connecting-ip":       true,
	"x-cluster-client-ip":    true,
	"x-original-url":         true,
	"x-rewrite-url":          true,
	"x-original-host":        true,
	"x-host":                 true,
	"proxy-authorization":    true,
	"x-http-method-override": true,
	"x-http-method":          true,
	"x-method-override":      true,
}

// credentialHeaders carry BMC credentials. They are removed when the
// gateway attaches its own BMC session (users never hold BMC credentials
// then); with login: none the user logs in to the BMC UI itself and its UI
// needs them.
var credentialHeaders = map[string]bool{
	"x-auth-token":  true,
	"authorization": true,
}

// stripped reports whether a client-sent header name must be removed.
// Underscore spellings (X_Forwarded_For) count: some servers fold them
// into the dashed name.
func stripped(name string, extra map[string]bool) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	if strings.HasPrefix(n, "x-forwarded-") || strings.HasPrefix(n, "x-bmcgate-") || strippedHeaders[n] {
		return true
	}
	return extra[n]
}

// headerKey normalizes a header name for the stripped sets.
func headerKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", "-"))
}

// cleanRequestHeaders removes forbidden client headers from h in place,
// and credential headers too when withSession is set.
func cleanRequestHeaders(h http.Header, extra map[string]bool, withSession bool) {
	for name := range h {
		if stripped(name, extra) || withSession && credentialHeaders[headerKey(name)] {
			delete(h, name)
		}
	}
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
