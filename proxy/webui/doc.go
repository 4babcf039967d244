// Package webui brokers HTTPS requests from a browser to one BMC's own web
// interface (iDRAC, iLO, Supermicro, OpenBMC) and its HTML5 KVM.
//
// The package knows BMCs, never users. The gateway builds one [Proxy] per
// BMC from config and calls [Proxy.Serve] with a [Request] that carries the
// public host the browser used, the BMC-side [Session] it obtained from a
// [Pool] for the user's session, an authorize callback consulted with the
// recognised [Operation] before anything is forwarded, and an audit callback
// that receives a [Summary] after the response (or, for a websocket, after
// it closes). Policy and audit live in the gateway.
//
// Security posture:
//
//   - One [net/http.Transport] per BMC. TLS toward the BMC is verified by a
//     pinned SHA-256 fingerprint of the BMC's leaf certificate (the DER
//     bytes: the value `openssl x509 -fingerprint -sha256` and browsers
//     show), or by a CA bundle. Skipping verification needs the explicit
//     per-BMC opt-in [TLS.InsecureSkipVerifyDangerous] and is logged loudly.
//   - The request target is always the BMC's configured URL (or one of its
//     configured extra ports): neither the request line, the Host header nor
//     the path can point the proxy anywhere else.
//   - Paths are canonicalized before classification and the canonical path is
//     what is forwarded, so what policy sees is what the BMC gets (see
//     [CanonicalPath]).
//   - Client-sent identity and forwarding headers (X-Forwarded-*, Forwarded,
//     X-Real-IP, method overrides, their underscore spellings) and the
//     gateway's own headers and cookies are removed; so are client-sent BMC
//     credentials (X-Auth-Token, Authorization) whenever the gateway attaches
//     its own BMC session. Hop-by-hop headers and any upgrade other than
//     websocket (such as h2c) are dropped.
//   - The BMC-side session (cookies, tokens, CSRF headers) is attached by the
//     proxy and never handed to the browser: a BMC attempt to set a session
//     cookie is captured into the [Session] and removed from the response.
//   - Redfish writes are mapped to bmcgate actions ([Classify]); the
//     gateway's own BMC account can never be changed or deleted through the
//     proxy ([AccountGuard]).
package webui
