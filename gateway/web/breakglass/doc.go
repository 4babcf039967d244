// Package breakglass holds the credentials of bmcgate's break-glass web
// accounts: argon2id password hashes (made by "bmcgate passwd") and TOTP
// one-time codes (RFC 6238) as the second factor. It is pure computation;
// replay protection and rate limiting, which need state, live with the web
// door.
package breakglass
