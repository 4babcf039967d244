package web

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/configs"
)

// maxBearerLen bounds a bearer JWT before anything parses it.
const maxBearerLen = 8 << 10

// An API bearer token, as bmcgate accepts one, is an OAuth 2.0 access token
// in JWT form (RFC 9068) from the configured issuer:
//
//   - signed with an asymmetric algorithm by a key of the issuer's JWKS
//     (never "none" or HMAC), iss the configured issuer;
//   - header typ one of web.oidc.api_token_types (default at+jwt; "JWT" only
//     when listed, for providers that mark access tokens so) — and, whatever
//     the list, no ID-token claim (nonce, at_hash, c_hash, s_hash) and no
//     typ claim other than Bearer: an ID token proves a login to bmcgate's
//     own client, it is not a credential for an API;
//   - exp, iat and sub present; iat not in the future, nbf (if any) passed,
//     exp not passed, each within web.oidc.clock_skew; a lifetime (exp-iat)
//     of at most web.oidc.api_token_max_lifetime (1h), and exp no further
//     away than that either;
//   - aud naming one of web.oidc.api_audiences (default [client_id]);
//   - the client that obtained it — client_id, or azp where a provider
//     writes that (both, when present, agreeing) — one of
//     web.oidc.api_clients (default [client_id]): a token issued to another
//     client, for several audiences at once, is not replayed here;
//   - the user name claim and groups mapping to at least one role, as at
//     login.
//
// Anything else is refused with 401 and an audit record naming the reason.

// checkBearerType checks the token's header typ against the accepted token
// types; a missing typ counts as "JWT".
func checkBearerType(raw string, o configs.OIDC) error {
	seg, _, _ := strings.Cut(raw, ".")
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errText("bearer token rejected: malformed header")
	}
	var h struct {
		Typ *string `json:"typ"`
	}
	if json.Unmarshal(data, &h) != nil {
		return errText("bearer token rejected: malformed header")
	}
	typ := "jwt"
	if h.Typ != nil {
		typ = mediaType(*h.Typ)
	}
	for _, t := range o.APITokenTypes {
		if mediaType(t) == typ {
			return nil
		}
	}
	return errText("bearer token rejected: token type " + quoteShort(typ) + " is not an API access token type")
}

// mediaType normalizes a JWT typ value: lower case, without the optional
// "application/" prefix (RFC 7515 section 4.1.9).
func mediaType(t string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(t)), "application/")
}

// checkBearerClaims checks a verified token's claims (see above) at now.
func checkBearerClaims(claims map[string]any, aud []string, o configs.OIDC, now time.Time) error {
	reject := func(why string) error { return errText("bearer token rejected: " + why) }
	for _, c := range []string{"nonce", "at_hash", "c_hash", "s_hash"} {
		if _, ok := claims[c]; ok {
			return reject("an ID token (claim " + c + ") is not an API credential")
		}
	}
	if t, ok := claims["typ"]; ok {
		if s, _ := t.(string); !strings.EqualFold(s, "Bearer") {
			return reject("typ claim " + quoteShort(s) + " is not an access token's")
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return reject("no sub claim")
	}
	skew := o.ClockSkew.Duration
	exp, okExp := numericDate(claims["exp"])
	iat, okIat := numericDate(claims["iat"])
	switch {
	case !okExp:
		return reject("no exp claim")
	case !okIat:
		return reject("no iat claim")
	case iat.After(now.Add(skew)):
		return reject("issued in the future (iat)")
	case !exp.After(now.Add(-skew)):
		return reject("expired")
	case exp.Sub(iat) > o.APITokenMaxLifetime.Duration:
		return reject("lifetime longer than " + o.APITokenMaxLifetime.String())
	case exp.Sub(now) > o.APITokenMaxLifetime.Duration+skew:
		return reject("expires further away than " + o.APITokenMaxLifetime.String())
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok || nbf.After(now.Add(skew)) {
			return reject("not valid yet (nbf)")
		}
	}
	okAud := false
	for _, a := range aud {
		okAud = okAud || slices.Contains(o.APIAudiences, a)
	}
	if !okAud {
		return reject("wrong audience")
	}
	client, _ := claims["client_id"].(string)
	azp, _ := claims["azp"].(string)
	switch {
	case client != "" && azp != "" && client != azp:
		return reject("client_id and azp disagree")
	case client == "":
		client = azp
	}
	if client == "" {
		return reject("no client_id or azp claim: the requesting client is unknown")
	}
	if !slices.Contains(o.APIClients, client) {
		return reject("issued to client " + quoteShort(client) + ", which is not in web.oidc.api_clients")
	}
	return nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// quoteShort quotes a value from a token for an audit reason, bounded.
func quoteShort(s string) string {
	b, _ := json.Marshal(truncate(s, 64))
	return string(b)
}
