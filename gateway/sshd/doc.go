// Package sshd is bmcgate's SSH front door, built on github.com/gliderlabs/ssh.
//
// Users authenticate with public keys or OpenSSH user certificates only;
// the identity is taken from the permissions of the key whose signature
// was verified, never from a key merely offered. Session channels are
// handled here (pty-req, window-change, exec, shell, break); forwarding,
// agent and X11 requests, environment variables, subsystems and unknown
// requests are refused and audited. Commands (list, power, sensors, sel,
// console, scan, audit, ...) live in one table and run through the
// gateway's service layer, which decides and audits every action; the
// interactive bmcgate> prompt uses the same table.
//
// What a client can hold is bounded: unauthenticated connections per source
// and in all, with MaxStartups-style random early drop (preauth.go), apart
// from authenticated ones (global and per-user limits); handshake, idle
// (idle.go: keep-alives are not activity) and session timeouts; a burst
// allowance of refused requests per connection (refuse.go). Refusals reach
// the audit log through an aggregator (package gateway/refusals), so no
// client can flood it. The algorithm lists are explicit (no SHA-1), and
// certificates are checked for key strength, SHA-1 signatures, permit-pty
// and against the revoked-keys file (revoked.go, package krl).
package sshd
