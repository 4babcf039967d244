// Package configs defines bmcgate's configuration file: its schema, a strict
// loader and the validation that runs before the gateway starts.
//
// The configuration is one YAML file. Loading is strict: unknown keys,
// duplicate keys, wrong types and every semantic problem (bad addresses,
// unknown roles, weak SSH keys, unreadable or too-open password files, ...)
// are collected and reported together, each with the file, line and field
// path, and any problem stops the load. Callers add their own domain checks
// (the gateway checks the role rules with package authz) through
// LoadOptions.Checks.
//
// BMC passwords are resolved at load time from a file, an environment
// variable or, only when explicitly allowed, the file itself, and are held in
// a Secret, which prints as "[redacted]" everywhere. No password ever appears
// in a Problem.
//
// The package imports only the standard library, the YAML decoder and
// golang.org/x/crypto/ssh (to parse public keys).
package configs
