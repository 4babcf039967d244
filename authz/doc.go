// Package authz is bmcgate's policy engine: principals, actions, BMC targets,
// selectors and roles, and the Decide function that answers whether a
// principal may perform an action on a target, with a reason a person can read.
//
// The package is pure: it performs no I/O, keeps no global state and imports
// nothing else from bmcgate. Everything is deny by default: an action is
// allowed only when some allow rule of one of the principal's roles matches
// it and no deny rule of any of the principal's roles does.
package authz
