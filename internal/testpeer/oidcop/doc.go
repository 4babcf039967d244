// Package oidcop starts OpenID providers on loopback for bmcgate's tests:
// Start runs a real provider built on zitadel/oidc's certified op package
// (in-memory storage, a login page, test users with groups); Fake runs a
// deliberately misbehaving issuer whose ID tokens the test shapes (wrong
// audience, wrong issuer, expired, alg none, wrong nonce) to check that the
// web door refuses them.
package oidcop
