// Package service is the service layer shared by bmcgate's front doors. A front
// door authenticates a caller and hands service a Caller and a request; service
// expands the target selectors against the inventory, asks the policy for a
// decision per BMC, writes the decision to the audit log before acting (no
// audit record, no action), calls the broker with bounded fan-out and
// per-command timeouts, and audits each outcome.
//
// service declares the narrow interfaces it needs from the broker and the audit
// store (Broker, AuditLog) so that front doors and tests can be built against
// fakes, and the real implementations live in proxy/ipmi and audit.
package service
