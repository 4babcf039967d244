// Package bmcssh brokers serial consoles through a BMC's own SSH console
// service, for BMCs whose IPMI over LAN (and so Serial-over-LAN) is off.
//
// A Line holds one SSH connection to one BMC and keeps it until Close: it
// dials, checks the BMC's host key against the key pinned for it, logs in
// with the credentials the caller supplies (public key, password or
// keyboard-interactive), asks for a PTY, starts the console service's
// shell (or a command) and runs the BMC's profile: a short script of steps
// (send a line, expect a prompt) that gets from the BMC's command line to
// the host's serial console, such as "console com2" on iDRAC or "vsp" on
// iLO. From then on it hands the console's output to a callback, writes
// input from a bounded buffer, sends serial breaks (the SSH "break"
// request of RFC 4335), checks that the BMC still answers
// ("keepalive@openssh.com" with a reply) and, when the connection is lost,
// reports a status and connects again with capped exponential backoff.
// Close sends the profile's detach sequence and closes the connection.
//
// The API follows proxy/sol's Line (Open, Write, Break, Takeover, State,
// Close; output, status and lost-input callbacks; the same state names), so
// a console hub can drive SOL and SSH lines alike.
//
// Security: a host key is never trusted on first use. A BMC without a
// pinned key, or presenting another key, is refused with an error of
// KindHostKey that names the fingerprint it presented (FetchHostKey gets
// that key without logging in, for an operator to pin). Only modern
// algorithms are offered: ML-KEM/X25519, Curve25519, ECDH and SHA-2
// Diffie-Hellman key exchanges; AES-GCM, ChaCha20-Poly1305 and AES-CTR
// ciphers; SHA-2 MACs; Ed25519, ECDSA and RSA host keys with SHA-2
// signatures only. There is no opt-in for SHA-1, CBC or RC4: a BMC that
// speaks nothing better is reached over SOL or upgraded. Credentials are
// never logged or put in an error, and a wrong password is not retried
// quickly (Options.RefusedRetry), so a BMC's account lock-out is not
// tripped. The profile's detach sequence is never passed on from input (it
// would leave the console for the BMC's command line, which runs with the
// gateway's BMC account), and a profile may name the command line's prompt
// (Profile.Ended) so that a console the BMC ends is noticed and attached
// again rather than left at that prompt.
//
// Every wait is bounded: connect, handshake and login by
// Options.ConnectTimeout, each step by its timeout and by
// Options.MaxStepOutput bytes of output without the expected text, keep-
// alive replies by Options.KeepAliveTimeout. A Line's goroutines end before
// Close returns.
//
// The built-in profiles for iDRAC, iLO and Supermicro follow the vendors'
// documentation of their SSH command lines and are tested against the
// simulator in internal/sim/bmcsim, not against those BMCs; the OpenBMC profile
// (the host console on port 2200, the console being the session itself) is
// tested against OpenSSH's sshd. The package knows BMCs, never users.
package bmcssh
