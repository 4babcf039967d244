// Package bmchost is the door of the BMC web UI hosts: each BMC's own web
// UI served on a host of its own, <bmc>.<web.proxy_domain> (and the
// web.proxy_ports listeners of BMCs whose KVM uses a port of its own),
// through the BMC's web UI broker (proxy/webui).
//
// The BMC hosts are served on the web door's listener (gateway/web owns it,
// its TLS and the routing by host) but are a door of their own, with their
// own cookie, sessions, framing and cross-site rules. Nothing of the
// gateway's own pages, API or static files is reachable on a BMC host, and
// the main session cookie is never read there.
//
// The main door and the BMC hosts meet in one narrow hand-off. The main
// door, once its logged-in user asks to open a BMC's web UI and may, asks
// Hosts.Issue for a one-time ticket bound to the user session and the BMC
// (ticket.go) and sends the browser to the BMC host with it. The BMC host
// redeems the ticket and asks the main door, through Users, for the user
// session the ticket names; from then on the browser is known by the BMC
// host's own cookie, mapped server-side to that user session and that BMC
// (session.go), and each request is checked and forwarded (serve.go). The
// main door ends a user's BMC-host sessions with the user session
// (Hosts.EndUser); the BMC hosts re-check theirs against the policy.
// Everything else the package needs is declared here as small interfaces:
// Service (the service calls it makes), Users, UIs (the brokers).
package bmchost
