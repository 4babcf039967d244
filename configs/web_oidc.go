package configs

import (
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// OIDC is single sign-on with an OpenID Connect provider (Keycloak, Okta,
// Entra ID, Google, Dex, ...): authorization code flow with PKCE. People get
// their bmcgate roles from their groups at the provider.
type OIDC struct {
	// Issuer is the provider's issuer URL; discovery is read from
	// <issuer>/.well-known/openid-configuration. https, or http on loopback
	// for tests.
	Issuer string `yaml:"issuer"`
	// ClientID is bmcgate's client at the provider; ID tokens must name it
	// as their audience.
	ClientID string `yaml:"client_id"`
	// At most one of ClientSecretFile and ClientSecretEnv (none for a
	// public client that relies on PKCE alone).
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	// Scopes requested at login (openid, profile, email, groups). Add
	// offline_access where the provider needs it to issue refresh tokens.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names the claim that becomes the bmcgate user name
	// (preferred_username). Like the other claim names it may be a dotted
	// path into nested objects (realm_access.roles); a claim whose own name
	// holds the dots (https://example.com/groups) is used first.
	UsernameClaim string `yaml:"username_claim"`
	// EmailClaim names the claim holding the user's email address (email),
	// recorded with the login; a user without one may still log in.
	EmailClaim string `yaml:"email_claim"`
	// GroupsClaim names the claim holding the user's groups (groups): an
	// array of strings, or one string of comma-separated groups.
	GroupsClaim string `yaml:"groups_claim"`
	// Userinfo says when the claims are read from the provider's userinfo
	// endpoint as well as the ID token: "auto" (default) when one of them
	// is missing from the ID token, "always" (its values win over the ID
	// token's), "never". The userinfo answer's sub must be the ID token's.
	Userinfo string `yaml:"userinfo"`
	// GroupRoles maps a provider group to bmcgate roles.
	GroupRoles map[string][]string `yaml:"group_roles"`
	// UserRoles maps a provider user name (username_claim) to bmcgate
	// roles, added to those of the user's groups. A user whose groups and
	// name map to no role cannot log in.
	UserRoles map[string][]string `yaml:"user_roles"`
	// APIAudiences are the audiences accepted in bearer access tokens
	// (JWT) on the API: a token must name one of them in aud. Default
	// [client_id]. ID tokens are always checked against client_id.
	APIAudiences []string `yaml:"api_audiences"`
	// APIClients are the OAuth clients whose access tokens the API accepts:
	// the token's client_id claim (RFC 9068), or azp where a provider
	// writes that instead, must be one of them. Default [client_id].
	APIClients []string `yaml:"api_clients"`
	// APITokenTypes are the JWT header typ values of access tokens the API
	// accepts (case ignored, an "application/" prefix optional). Default
	// [at+jwt] (RFC 9068). Providers that mark access tokens "JWT" need it
	// listed; a token without typ counts as "JWT". Whatever is listed, a
	// token with ID-token claims (nonce, at_hash, c_hash, a typ claim other
	// than Bearer) is refused.
	APITokenTypes []string `yaml:"api_token_types"`
	// APITokenMaxLifetime bounds an access token's lifetime (exp - iat)
	// and how far in the future its exp may be (1h).
	APITokenMaxLifetime Duration `yaml:"api_token_max_lifetime"`
	// ClockSkew is how far the provider's clock may be from the gateway's
	// when token times (iat, nbf, exp) are checked (1m, at most 5m).
	ClockSkew Duration `yaml:"clock_skew"`

	clientSecret Secret
}

// ClientSecret returns the client secret resolved at load time (the zero
// Secret for a public client or with LoadOptions.SkipSecrets).
func (o OIDC) ClientSecret() Secret { return o.clientSecret }

// Defaults of the oidc section.
var DefaultOIDCScopes = []string{"openid", "profile", "email", "groups"}

const (
	DefaultAPITokenMaxLifetime = time.Hour
	DefaultClockSkew           = time.Minute
	DefaultUsernameClaim       = "preferred_username"
	DefaultEmailClaim          = "email"
	DefaultGroupsClaim         = "groups"
	maxGroupNameLen            = 256
	maxClaimNameLen            = 128
	maxOIDCUserLen             = 128
)

// When the userinfo endpoint is asked (web.oidc.userinfo).
const (
	UserinfoAuto   = "auto"
	UserinfoAlways = "always"
	UserinfoNever  = "never"
)

// oidc checks web.oidc and fills in its defaults.
func (v *validator) oidc(roles map[string]bool) {
	o := &v.c.Web.OIDC
	if !v.present("web.oidc") {
		return
	}
	const f = "web.oidc"
	if o.Issuer == "" {
		v.probs.add(fieldPath(f, "issuer"), "required: the provider's issuer URL")
	} else if msg := checkIssuer(o.Issuer); msg != "" {
		v.probs.add(fieldPath(f, "issuer"), "%s", msg)
	}
	if o.ClientID == "" {
		v.probs.add(fieldPath(f, "client_id"), "required: bmcgate's client id at the provider")
	} else if !printable(o.ClientID, 256) {
		v.probs.add(fieldPath(f, "client_id"), "must be 1 to 256 printable characters")
	}
	v.clientSecret(f, o)
	if !v.present(fieldPath(f, "scopes")) {
		o.Scopes = append([]string(nil), DefaultOIDCScopes...)
	} else {
		hasOpenID := false
		for i, s := range o.Scopes {
			if s == "" || strings.ContainsAny(s, " \"\\") || !printable(s, 128) {
				v.probs.add(indexPath(fieldPath(f, "scopes"), i), "not a valid scope")
			}
			hasOpenID = hasOpenID || s == "openid"
		}
		if !hasOpenID {
			v.probs.add(fieldPath(f, "scopes"), "must include openid")
		}
	}
	v.claimName(fieldPath(f, "username_claim"), &o.UsernameClaim, DefaultUsernameClaim)
	v.claimName(fieldPath(f, "email_claim"), &o.EmailClaim, DefaultEmailClaim)
	v.claimName(fieldPath(f, "groups_claim"), &o.GroupsClaim, DefaultGroupsClaim)
	switch o.Userinfo {
	case "":
		if v.present(fieldPath(f, "userinfo")) {
			v.probs.add(fieldPath(f, "userinfo"), "must be auto, always or never (leave it out for auto)")
		}
		o.Userinfo = UserinfoAuto
	case UserinfoAuto, UserinfoAlways, UserinfoNever:
	default:
		v.probs.add(fieldPath(f, "userinfo"), "must be auto, always or never, not %q", truncateText(o.Userinfo, 32))
	}
	v.roleMap(fieldPath(f, "group_roles"), o.GroupRoles, "group names are 1 to %d printable characters", maxGroupNameLen, roles)
	v.roleMap(fieldPath(f, "user_roles"), o.UserRoles, "user names are 1 to %d printable characters", maxOIDCUserLen, roles)
	if len(o.GroupRoles) == 0 && len(o.UserRoles) == 0 {
		v.probs.add(fieldPath(f, "group_roles"), "required: map at least one provider group (or, under user_roles, one user) to bmcgate roles")
	}
	v.oidcList(fieldPath(f, "api_audiences"), &o.APIAudiences, o.ClientID, "audience")
	v.oidcList(fieldPath(f, "api_clients"), &o.APIClients, o.ClientID, "client id")
	if !v.present(fieldPath(f, "api_token_types")) {
		o.APITokenTypes = []string{DefaultAPITokenType}
	} else {
		for i, t := range o.APITokenTypes {
			if t == "" || strings.ContainsAny(t, " ,;\"") || !printable(t, 64) {
				v.probs.add(indexPath(fieldPath(f, "api_token_types"), i), "not a token type: like at+jwt or JWT")
			}
		}
	}
	v.checkDurations(f, []durationLimit{
		{"api_token_max_lifetime", &o.APITokenMaxLifetime, DefaultAPITokenMaxLifetime, time.Minute, 24 * time.Hour},
		{"clock_skew", &o.ClockSkew, DefaultClockSkew, 0, 5 * time.Minute},
	}, nil)
}

// claimName checks a claim name (or dotted path) at field, defaulting it to
// def when absent.
func (v *validator) claimName(field string, val *string, def string) {
	if *val == "" {
		if v.present(field) {
			v.probs.add(field, "must not be empty (leave it out for %s)", def)
		}
		*val = def
		return
	}
	if !printable(*val, maxClaimNameLen) || strings.ContainsAny(*val, " ") ||
		strings.HasPrefix(*val, ".") || strings.HasSuffix(*val, ".") || strings.Contains(*val, "..") {
		v.probs.add(field, "not a valid claim name: a name, or a dotted path like realm_access.roles")
	}
}

// roleMap checks a map of provider names (groups or users) to bmcgate roles.
func (v *validator) roleMap(field string, m map[string][]string, nameMsg string, maxName int, roles map[string]bool) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nf := keyPath(field, n)
		if n == "" || !printable(n, maxName) {
			v.probs.add(nf, nameMsg, maxName)
		}
		if len(m[n]) == 0 {
			v.probs.add(nf, "list at least one role")
		}
		v.roleList(nf, m[n], roles)
	}
}

// truncateText shortens s to n bytes for a message.
func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// DefaultAPITokenType is the JWT typ of OAuth 2.0 access tokens (RFC 9068).
const DefaultAPITokenType = "at+jwt"

// oidcList checks a list of audiences or client ids at field, defaulting it
// to [clientID] when absent.
func (v *validator) oidcList(field string, list *[]string, clientID, what string) {
	if !v.present(field) {
		if clientID != "" {
			*list = []string{clientID}
		}
		return
	}
	if len(*list) == 0 {
		v.probs.add(field, "list at least one %s (leave it out for [client_id])", what)
	}
	for i, a := range *list {
		if a == "" || !printable(a, 256) {
			v.probs.add(indexPath(field, i), "not a valid %s", what)
		}
	}
}

// clientSecret checks the client secret source and reads it.
func (v *validator) clientSecret(f string, o *OIDC) {
	switch {
	case o.ClientSecretFile != "" && o.ClientSecretEnv != "":
		v.probs.add(fieldPath(f, "client_secret_env"), "set only one of client_secret_file and client_secret_env")
	case o.ClientSecretFile != "":
		o.ClientSecretFile = v.resolve(o.ClientSecretFile)
		if !v.opts.SkipSecrets {
			v.readSecret(fieldPath(f, "client_secret_file"), &o.clientSecret, func() (string, error) { return readPasswordFile(o.ClientSecretFile) })
		}
	case o.ClientSecretEnv != "":
		field := fieldPath(f, "client_secret_env")
		if !validEnvName(o.ClientSecretEnv) {
			v.probs.add(field, "not a valid environment variable name (letters, digits and '_', not starting with a digit)")
			return
		}
		if !v.opts.SkipSecrets {
			v.readSecret(field, &o.clientSecret, func() (string, error) { return readPasswordEnv(o.ClientSecretEnv) })
		}
	}
}

// readSecret reads a secret with get into dst, or reports why it cannot.
// Messages never contain the secret.
func (v *validator) readSecret(field string, dst *Secret, get func() (string, error)) {
	s, err := get()
	switch {
	case err != nil:
		v.probs.add(field, "%v", err)
	case strings.TrimSpace(s) == "":
		v.probs.add(field, "the secret is empty")
	default:
		*dst = NewSecret(s)
	}
}

// roleList checks a list of role names against the defined roles.
func (v *validator) roleList(field string, list []string, roles map[string]bool) {
	seen := map[string]bool{}
	for i, r := range list {
		rf := indexPath(field, i)
		switch {
		case !roles[r]:
			v.probs.add(rf, "unknown role %q", r)
		case seen[r]:
			v.probs.add(rf, "role %q is listed twice", r)
		}
		seen[r] = true
	}
}

// checkIssuer checks an issuer URL: https, or http on a loopback host.
func checkIssuer(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "not a URL: use https://HOST[/PATH]"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "must not have a user, query or fragment"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			return ""
		}
		return "must use https (http is accepted only on loopback, for tests)"
	}
	return "must use https"
}

// printable reports whether s is 1 to max bytes of printable UTF-8 without
// control characters.
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfffd {
			return false
		}
	}
	return true
}
