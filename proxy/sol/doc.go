// Package sol brokers Serial-over-LAN consoles of BMCs.
//
// A Line holds at most one active SOL payload (instance 1) on one BMC, over a
// session from ipmi.Dial, so every SOL datagram passes the IPMI session
// guard (authenticated, encrypted, no algorithm downgrade). The line reads
// the BMC's console output, writes input, sends serial breaks, keeps the
// session alive while idle and, when the payload drops (BMC reset, power
// transition, network loss), reports a status and re-activates it with
// capped exponential backoff.
//
// The session is set up and the payload activated with go-ipmi; the SOL
// packets themselves go through the session's ipmi.SOLConn, which the guard
// encrypts, signs and verifies without a library exchange (no goroutine,
// buffer or random source per packet). The line polls the BMC adaptively:
// every 5 ms right after input or output, so keystrokes echo with low
// latency, doubling with every empty poll up to 100 ms, so hundreds of idle
// consoles cost little; output the BMC pushes by itself is taken whenever
// the line is waiting for a packet. A data packet counts as delivered only
// when the BMC acknowledges its sequence number; otherwise it is sent again.
// Output is handed to a callback that must not block; input is held in a
// bounded buffer. The package knows BMCs, never users.
package sol
