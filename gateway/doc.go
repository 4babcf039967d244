// Package gateway is the running bmcgate: Open prepares the data directory,
// opens and verifies the audit log, loads or creates the SSH host key,
// builds the service layer (gateway/service) from the config (with
// gateway/assemble) and opens the front doors — the SSH door
// (gateway/sshd), the HTTPS door (gateway/web) and, on its listener, the
// BMC web-UI hosts (gateway/bmchost) — and the optional parts: the console hub (gateway/console) and the
// periodic posture scan (gateway/scans). Run serves until the context ends
// and shuts every door down in order before the final audit record; Reload
// (SIGHUP) applies a new config or refuses it, audited either way.
//
// What runs without a gateway lives elsewhere: the offline commands in
// gateway/offline, the demo in gateway/demo.
//
// The request path is the same for every front door:
//
//	front door -> service.Identity -> service.Service (principal from the current
//	  config -> authz.Decide -> audit.Append, fail closed)
//	  -> broker (proxy/ipmi; the console hub's line: proxy/sol) -> audit.Append(outcome)
package gateway
