// Package scan checks the security posture of BMCs over IPMI: which RMCP+
// cipher suites they accept (cipher suite 0 above all), which IPMI 1.5
// authentication types they allow, whether anonymous or null-user logins
// and vendor default passwords work, which users hold which privileges,
// whether Serial-over-LAN and LAN alerting are on, and what firmware they
// run. Each problem is a Finding with a stable ID, a severity, evidence and
// a remedy; Fix applies the remedies that can be applied over IPMI.
//
// The package knows BMCs, never users. It is careful with the BMCs it
// probes:
//
//   - Probes are paced per BMC (Options.Interval) and run one after the
//     other, so a scan holds at most one session (or half-open session) on
//     a BMC at a time.
//   - Default passwords are checked offline: one RAKP exchange per user
//     name yields the BMC's HMAC over the exchange, keyed by the password,
//     and candidates are tested against it locally. The exchange is then
//     aborted (RAKP message 3 with an error status), so no failed login is
//     ever sent and no account can be locked out. The HMAC is never stored,
//     logged or returned.
//   - A session opened with cipher suite 0 to test whether the BMC accepts
//     it is never used: no command is sent on it.
//   - Authenticated probes and fixes use proxy/ipmi's Dial, so the session
//     guard (authenticated, encrypted, no algorithm downgrade) applies.
package scan
