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
// interactive bmcgate> prompt uses the same table. Handshake, idle and
// session timeouts and per-user and global connection limits bound what a
// client can hold.
package sshd
