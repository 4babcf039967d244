// Package redfish brokers commands to baseboard management controllers
// over DMTF Redfish (HTTPS + JSON), for BMCs reached without IPMI over LAN.
//
// The package knows BMCs, never users: callers decide who may do what and
// hand it an [Endpoint] (base URL, TLS verification, credentials, optional
// system/manager/chassis ids). It imports no gateway, policy or audit code;
// its power and sensor types are shaped like package ipmi's (PowerState and
// PowerOp are the same types) so that both transports render alike.
//
// A [Broker] keeps one Redfish session per BMC warm: it logs in through the
// SessionService (the sessions collection is found through the service
// root's Links.Sessions), sends X-Auth-Token, logs in again when the BMC
// refuses the token (401) and repeats the request once — reads and writes
// alike: a 401 is the service refusing the request before acting on it
// (Redfish authenticates every request first), so nothing was done; a
// write whose answer was lost (sent, then no answer or a broken one) or
// answered 5xx is never sent again — and logs out (DELETE of the session's Location) on
// [Broker.Close], on [Broker.Forget] and after IdleLogout. A service without
// sessions is used with Basic authentication.
//
// It accepts what real services send: any 2xx with a token on login (the
// DMTF reference server answers 204), @odata.id links rather than fixed
// paths (every link is resolved against the BMC's own URL and refused if it
// leaves the host or /redfish/v1), system/manager/chassis ids discovered
// from the service root when not configured, and ActionInfo or
// @Redfish.AllowableValues to learn the reset types and boot targets a BMC
// supports: asking for one it lacks fails with [ErrUnsupported] naming what
// it supports.
//
// Bounds: at most Options.MaxConcurrent operations per BMC and
// Options.MaxPending waiting callers (beyond: [ErrBusy]); connect, per-call
// and per-operation timeouts through the context; response bodies above
// Options.MaxBody are refused; JSON is decoded into exactly the fields
// needed, with types checked and trailing data refused; 5xx answers,
// garbage and redirects are clear errors. A write whose answer is lost (or
// answered 5xx) is never sent again and is reported as [ErrUnknownOutcome].
//
// TLS toward the BMC is verified as for the BMC web proxy (package bmctls:
// pin, CA bundle, or the flagged opt-out). Passwords, session tokens and
// virtual media URLs never appear in errors, logs or results: [Endpoint]
// redacts itself for every fmt verb and log/slog, and errors are scrubbed.
// Errors are [*Error] values carrying a plain message for users, the cause
// for logs, and a [Kind] testable with errors.Is against the sentinels.
package redfish
