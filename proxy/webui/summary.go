package webui

import (
	"strings"
	"time"
)

// Summary describes one proxied request for the gateway's audit log. It
// holds no header, cookie, body or query value.
type Summary struct {
	BMC    string
	Method string
	// Path is the canonical path with query values redacted, like
	// "/redfish/v1/Systems?$expand=*"; for a refused request whose path
	// could not be canonicalized it is "(refused path)".
	Path      string
	Operation Operation
	Websocket bool
	// Status is the status sent to the browser (101 for a websocket).
	Status int
	// BytesIn and BytesOut count request and response body bytes.
	BytesIn, BytesOut int64
	Duration          time.Duration
	// Refused says why the proxy refused the request without forwarding it
	// (a safe, fixed text); empty when it was forwarded.
	Refused string
	// Err is the cause of a refusal or of a failure to reach the BMC, for
	// logs. It never holds a credential or a session value.
	Err error
}

// redactQuery keeps a query's keys and replaces every value with "*", so
// tokens and names in query strings never reach the audit log.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasVal := strings.Cut(p, "=")
		if len(k) > 64 {
			k = k[:64] + "…"
		}
		if hasVal {
			parts[i] = k + "=*"
		} else {
			parts[i] = k
		}
	}
	if len(parts) > 32 {
		parts = append(parts[:32], "…")
	}
	return strings.Join(parts, "&")
}

// auditPath is the canonical path plus the redacted query.
func auditPath(canonical, rawQuery string) string {
	if q := redactQuery(rawQuery); q != "" {
		return canonical + "?" + q
	}
	return canonical
}
