package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// CallbackPath is where the provider sends the browser back; register
// <public_url>/auth/callback as the client's redirect URI.
const CallbackPath = "/auth/callback"

// oidcClient talks to the identity provider. Discovery happens on first
// use and is retried until it succeeds, so a provider that is down at
// start does not stop the gateway (break-glass logins still work).
type oidcClient struct {
	hc  *http.Client
	log *slog.Logger

	mu       sync.Mutex
	cfg      configs.Web
	provider *oidc.Provider
	tried    time.Time
}

func newOIDCClient(w configs.Web, hc *http.Client, log *slog.Logger) *oidcClient {
	return &oidcClient{cfg: w, hc: hc, log: log}
}

func (o *oidcClient) reload(w configs.Web) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if w.OIDC.Issuer != o.cfg.OIDC.Issuer {
		o.provider = nil
	}
	o.cfg = w
}

// errProviderDown is shown as a page, with the cause logged.
var errProviderDown = errors.New("identity provider unreachable")

// discover returns the provider, running discovery if needed (at most
// every 5 s while it fails).
func (o *oidcClient) discover(ctx context.Context) (*oidc.Provider, configs.Web, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, o.cfg, nil
	}
	if time.Since(o.tried) < 5*time.Second {
		return nil, o.cfg, errProviderDown
	}
	o.tried = time.Now()
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.hc), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.OIDC.Issuer)
	if err != nil {
		o.log.Error("OIDC discovery failed", "issuer", o.cfg.OIDC.Issuer, "err", err)
		return nil, o.cfg, fmt.Errorf("%w: %w", errProviderDown, err)
	}
	o.provider = p
	return p, o.cfg, nil
}

// oauth2Config is the client configuration for the code flow.
func oauth2Config(p *oidc.Provider, w configs.Web) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     w.OIDC.ClientID,
		ClientSecret: w.OIDC.ClientSecret().Reveal(),
		Endpoint:     p.Endpoint(),
		RedirectURL:  w.PublicURL + CallbackPath,
		Scopes:       w.OIDC.Scopes,
	}
}

// supportedAlgs are the signature algorithms accepted on tokens; "none"
// and HMAC are never accepted.
var supportedAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// idVerifier checks an ID token's signature, issuer, audience (client_id)
// and expiry.
func idVerifier(p *oidc.Provider, w configs.Web, now func() time.Time) *oidc.IDTokenVerifier {
	return p.Verifier(&oidc.Config{ClientID: w.OIDC.ClientID, SupportedSigningAlgs: supportedAlgs, Now: now})
}

// identity is who a verified token (and the userinfo answer) says the
// user is.
type identity struct {
	Subject string // the provider's sub
	User    string
	Email   string
	Groups  []string
	// NoGroups is set when the provider sent no groups claim at all, to
	// name it when the user ends up without a role.
	NoGroups *missingClaimError
}

// serviceIdentity is the identity as the service layer resolves it: a single sign-on user whose
// roles are their groups mapped through the current group_roles.
func (id identity) serviceIdentity() service.Identity {
	return service.Identity{Name: id.User, Source: service.SourceSSO, Groups: id.Groups}
}

// errNoRoles means the user's groups map to no bmcgate role.
var errNoRoles = errors.New("no bmcgate role for the user's groups")

// identityFromClaims reads the user name, email and groups from the
// verified claims of a bearer access token.
func identityFromClaims(claims map[string]any, w configs.Web) (identity, error) {
	return identityFrom(w.OIDC, claimSource{whereAccess, claims})
}

// ssoRoles returns the roles id's groups give under the current config, or
// errNoRoles when they give none (such a user may not log in, and a
// session or token of theirs ends).
func (s *Server) ssoRoles(id identity) ([]string, error) {
	p, err := s.svc.Resolve(service.Caller{Identity: id.serviceIdentity(), Door: audit.DoorWeb})
	switch {
	case errors.Is(err, service.ErrLocked):
		return nil, err // the lock's reason, for the page and the record
	case err != nil:
		return nil, errNoRoles
	}
	return p.Roles, nil
}
