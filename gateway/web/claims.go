package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Bounds on what a provider's claims may hold.
const (
	maxUserLen   = 128
	maxEmailLen  = 256
	maxGroupLen  = 256
	maxGroups    = 1000
	whereIDToken = "the ID token"
	whereInfo    = "the userinfo answer"
	whereAccess  = "the access token"
)

// claimSource is one set of verified claims and where it came from, for
// the reason of a refusal.
type claimSource struct {
	where  string
	claims map[string]any
}

// missingClaimError is a claim the provider did not send (or sent in a
// shape bmcgate cannot read). Its text names the claim and where it was
// looked for; it never holds a claim's value.
type missingClaimError struct {
	claim string   // the configured claim name
	field string   // its config field: username_claim
	what  string   // "user name"
	where []string // the sources looked at
	bad   string   // why a present claim was refused; "" when absent
}

func (e *missingClaimError) Error() string {
	if e.bad != "" {
		return fmt.Sprintf("claim %q (%s) %s", e.claim, e.what, e.bad)
	}
	return fmt.Sprintf("claim %q (%s) missing from %s", e.claim, e.what, strings.Join(e.where, " and "))
}

// page is the login-failure text: what is missing and who can fix it.
func (e *missingClaimError) page() string {
	field := e.field
	if e.bad != "" {
		return fmt.Sprintf("Login failed: the identity provider's claim %q (the %s) %s. Ask its administrator to fix it, or set web.oidc.%s.", e.claim, e.what, e.bad, field)
	}
	return fmt.Sprintf("Login failed: the identity provider sent no claim %q (the %s) in %s. Ask its administrator to release it to bmcgate, or set web.oidc.%s.",
		e.claim, e.what, strings.Join(e.where, " or "), field)
}

// lookupClaim finds a claim by name: first as a key of its own (a claim
// name may hold dots, as namespaced ones like https://example.com/groups
// do), then as a dotted path into nested objects (realm_access.roles).
func lookupClaim(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok && v != nil {
		return v, true
	}
	if !strings.Contains(name, ".") {
		return nil, false
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// claimGroups reads a groups claim: an array of strings, or one string of
// comma-separated groups. Blank entries and entries that are not strings are
// dropped (fewer groups never give more roles), others trimmed; a group
// longer than 256 bytes, or more than 1000 of them, is refused.
func claimGroups(v any) ([]string, string) {
	var raw []string
	switch g := v.(type) {
	case string:
		raw = strings.Split(g, ",")
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				raw = append(raw, s)
			}
		}
	default:
		return nil, "is neither an array of strings nor a comma-separated string"
	}
	if len(raw) > maxGroups {
		return nil, fmt.Sprintf("holds more than %d groups", maxGroups)
	}
	out := make([]string, 0, len(raw))
	for _, s := range raw {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case len(s) > maxGroupLen:
			return nil, fmt.Sprintf("holds a group longer than %d bytes", maxGroupLen)
		default:
			out = append(out, s)
		}
	}
	return out, ""
}

// claimString reads a string claim of at most max bytes.
func claimString(v any, max int) (string, string) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", "is not a string"
	case s == "":
		return "", "is empty"
	case len(s) > max:
		return "", fmt.Sprintf("is longer than %d bytes", max)
	}
	return s, ""
}

// firstClaim is the value of claim in the first source that has it.
func firstClaim(srcs []claimSource, claim string) (any, bool) {
	for _, src := range srcs {
		if v, ok := lookupClaim(src.claims, claim); ok {
			return v, true
		}
	}
	return nil, false
}

func wheres(srcs []claimSource) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		out[i] = s.where
	}
	return out
}

// identityFrom reads the user name, email and groups from the sources, each
// claim from the first source that has it. The user name is required; a
// missing email is left empty, and missing groups are recorded as such (the
// user may still have roles through user_roles).
func identityFrom(o configs.OIDC, srcs ...claimSource) (identity, error) {
	var id identity
	v, ok := firstClaim(srcs, o.UsernameClaim)
	if !ok {
		return id, &missingClaimError{claim: o.UsernameClaim, field: "username_claim", what: "user name", where: wheres(srcs)}
	}
	var bad string
	if id.User, bad = claimString(v, maxUserLen); bad != "" {
		return identity{}, &missingClaimError{claim: o.UsernameClaim, field: "username_claim", what: "user name", bad: bad}
	}
	if v, ok := firstClaim(srcs, o.EmailClaim); ok {
		id.Email, _ = claimString(v, maxEmailLen) // optional: a malformed one is left out
	}
	v, ok = firstClaim(srcs, o.GroupsClaim)
	if !ok {
		id.NoGroups = &missingClaimError{claim: o.GroupsClaim, field: "groups_claim", what: "groups", where: wheres(srcs)}
		return id, nil
	}
	if id.Groups, bad = claimGroups(v); bad != "" {
		return identity{}, &missingClaimError{claim: o.GroupsClaim, field: "groups_claim", what: "groups", bad: bad}
	}
	return id, nil
}

// missingAny reports whether a source lacks any of the claims bmcgate reads.
func missingAny(o configs.OIDC, claims map[string]any) bool {
	for _, c := range []string{o.UsernameClaim, o.EmailClaim, o.GroupsClaim} {
		if _, ok := lookupClaim(claims, c); !ok {
			return true
		}
	}
	return false
}

// providerIdentity reads who the user is from a verified ID token and, when
// web.oidc.userinfo asks for it or the ID token lacks one of the claims,
// from the provider's userinfo endpoint with the access token (whose answer
// must name the ID token's subject). With "always" the userinfo answer's
// claims win; otherwise the ID token's do. Errors are safe to audit.
func (s *Server) providerIdentity(ctx context.Context, p *oidc.Provider, o configs.OIDC, tok *oauth2.Token, idt *oidc.IDToken) (identity, error) {
	var idClaims map[string]any
	if err := idt.Claims(&idClaims); err != nil {
		return identity{}, errText("id_token claims unreadable")
	}
	srcs := []claimSource{{whereIDToken, idClaims}}
	ask := o.Userinfo == configs.UserinfoAlways ||
		o.Userinfo == configs.UserinfoAuto && p.UserInfoEndpoint() != "" && missingAny(o, idClaims)
	if ask {
		info, err := s.userinfo(ctx, p, tok, idt.Subject)
		if err != nil {
			return identity{}, err
		}
		if o.Userinfo == configs.UserinfoAlways {
			srcs = []claimSource{{whereInfo, info}, srcs[0]}
		} else {
			srcs = append(srcs, claimSource{whereInfo, info})
		}
	}
	id, err := identityFrom(o, srcs...)
	id.Subject = idt.Subject
	return id, err
}

// userinfo asks the provider's userinfo endpoint about the access token's
// user and checks that the answer is about subject.
func (s *Server) userinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, subject string) (map[string]any, error) {
	if p.UserInfoEndpoint() == "" {
		return nil, errText("the provider has no userinfo endpoint (web.oidc.userinfo is always)")
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errText("no access token to ask the userinfo endpoint with")
	}
	info, err := p.UserInfo(oidc.ClientContext(ctx, s.hc), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"}))
	if err != nil {
		s.log.Warn("OIDC userinfo request failed", "err", truncate(err.Error(), 256))
		return nil, errText("userinfo request failed")
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		return nil, errText("userinfo answer unreadable")
	}
	if info.Subject == "" || info.Subject != subject {
		return nil, errText("userinfo sub does not match the ID token's")
	}
	return claims, nil
}

// maxProviderBody bounds every answer read from the identity provider
// (discovery, keys, tokens, userinfo).
const maxProviderBody = 1 << 20

// limitBodies returns a copy of hc whose responses fail past max bytes.
func limitBodies(hc *http.Client, max int64) *http.Client {
	cp := *hc
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = limitedTransport{base: base, max: max}
	return &cp
}

type limitedTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// errBodyTooLarge is a provider answer longer than maxProviderBody.
var errBodyTooLarge = errors.New("identity provider answer too large")

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
