// Package ipmi brokers IPMI commands to baseboard management controllers
// over RMCP+ (IPMI 2.0 "lanplus").
//
// The package knows BMCs, never users: callers decide who may do what and
// hand it an [Endpoint] (address, credentials, cipher suite, privilege).
//
// Security posture:
//
//   - Only cipher suites 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) and
//     17 (RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128) are ever proposed,
//     exactly one per session; anything else is refused with [ErrInsecure]
//     before a packet is sent.
//   - Every datagram passes a session guard (a net.Conn wrapper under the
//     go-ipmi client) that checks the negotiated algorithms against the
//     requested ones, verifies the RAKP exchange with the password it holds,
//     derives the session integrity key and drops every inbound packet of the
//     active session that is not authenticated, encrypted and carrying a valid
//     integrity code. Spoofed or replayed datagrams never reach the client.
//   - The guard re-encrypts every outbound packet under a fresh IV from
//     crypto/rand (go-ipmi's IVs are predictable), numbers the session's
//     outbound packets itself and signs them again.
//   - Serial-over-LAN packets travel through [Session.SOL]: the guard seals
//     and opens them with the session keys itself, sharing the socket with
//     the library without a goroutine or allocation per packet.
//   - Passwords never appear in errors, logs or formatted values: [Endpoint]
//     redacts itself for every fmt verb and for log/slog.
//
// A [Broker] keeps a small pool of warm, authenticated sessions per BMC,
// keeps them alive while idle, bounds concurrency and queueing per BMC, and
// retries only when doing so cannot repeat a command that may have run.
// Lost datagrams of session setup and of reads are sent again by the guard
// (same request and rqSeq, new session sequence number and IV) within the
// call's deadline; writes never are. A broker operation returns by
// Options.CallTimeout, a fresh session included. It caches each BMC's
// sensor data records, keyed on the repository's change stamp, so a sensors
// read costs one exchange plus one per sensor.
// Errors are [*Error] values carrying a plain message for users, the cause for
// logs, and a [Kind] testable with errors.Is against the sentinels.
package ipmi
