// Package gateway wires bmcgate together: it loads the configuration, opens
// the audit store, builds the policy and the BMC inventory, starts the front
// doors (SSH today) and the brokers, reloads on SIGHUP and shuts everything
// down in order. It also holds the offline operator tools (config check,
// audit verify) and the demo fleet.
//
// The request path is the same for every front door:
//
//	front door -> service.Identity -> service.Service (principal from the current
//	  config -> authz.Decide -> audit.Append, fail closed)
//	  -> broker (proxy/ipmi) -> audit.Append(outcome)
package gateway
