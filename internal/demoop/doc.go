// Package demoop is the OpenID provider that "bmcgate demo" runs on
// loopback: zitadel/oidc's op package (code flow with PKCE, discovery,
// signed ID tokens, userinfo, refresh tokens) over an in-memory store,
// with a password login page and a fixed set of demo users whose groups
// the demo config maps to roles. It is for the demo only: passwords are
// kept in memory as given, and the issuer is plain HTTP on loopback.
package demoop
