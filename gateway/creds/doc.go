// Package creds is the store of per-user automation credentials: a random
// user name and password that a tool speaking a BMC protocol (Redfish,
// IPMI RMCP+) presents to bmcgate instead of a BMC password.
//
// A credential belongs to the bmcgate user who issued it (its owner) and
// acts with the owner's roles as they are at each request, narrowed by the
// credential's scope (actions) and targets (BMCs). It expires, and its
// owner can revoke it. The password is shown once, at issue:
//
//   - the store keeps its SHA-256, which is enough to check a Redfish
//     Basic or session login (the password is 20 random characters, about
//     119 bits, so a slow hash adds nothing);
//   - for a credential that may log in over RMCP+, whose RAKP exchange needs
//     the password itself, the store also keeps the password sealed with
//     AES-256-GCM under a key held in its own file (credentials.key, mode
//     0600), apart from the credential file, so that a copy of the one
//     without the other discloses no password.
//
// Both files live in the data directory (names from internal/datadir) and
// are written atomically with mode 0600. Recording issue, use and
// revocation in the audit log is the caller's part.
package creds
