// Package web is bmcgate's browser and API front door: an HTTPS server with
// OpenID Connect single sign-on (authorization code flow with PKCE),
// break-glass local accounts (argon2id password plus TOTP), server-side
// sessions in bbolt, a server-rendered dashboard and a JSON API under
// /api/v1/.
//
// Every request that acts on a BMC or reads the audit log goes through
// service.Service, so decisions and outcomes are audited exactly as for SSH,
// with the front door "web" (browser pages) or "api" (JSON API).
//
// Other handlers (the posture scan page) reuse the sessions: wrap them with
// Server.RequireSession and read the caller with CallerFrom. The BMC web UI
// hosts (gateway/bmchost) are served on this door's listener: the door
// routes <bmc>.<web.proxy_domain> to them, asks them for a ticket when a
// user opens a BMC's web UI, and answers their questions about user
// sessions through bmchost.Users (handoff.go).
package web
