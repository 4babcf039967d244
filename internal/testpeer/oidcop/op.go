package oidcop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a test user at the provider.
type User struct {
	ID, Username, Password string
	Groups                 []string
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer string
	srv    *http.Server
	groups *groupStorage
}

// users implements the example storage's user store with our users.
type users struct{ byID, byName map[string]*storage.User }

func (u users) GetUserByID(id string) *storage.User         { return u.byID[id] }
func (u users) GetUserByUsername(name string) *storage.User { return u.byName[name] }
func (u users) ExampleClientID() string                     { return "service" }

// Placement is where a provider puts the user's name, email and groups.
type Placement int

const (
	// Everywhere: in the ID token and in the userinfo answer.
	Everywhere Placement = iota
	// InUserinfo: only in the userinfo answer; the ID token carries the
	// subject and the protocol's claims alone (as many providers do when
	// an access token is issued).
	InUserinfo
	// InIDToken: only in the ID token; the userinfo answer carries the
	// subject alone.
	InIDToken
)

// Options shape what a provider started with StartWith says about users.
type Options struct {
	Claims Placement
	// Extra returns claims of the test's own for a user (nested objects,
	// comma-separated strings, namespaced names), put where Claims says.
	Extra func(userID string) map[string]any
	// UserinfoSubject, when set, is the sub of every userinfo answer: a
	// provider that answers about someone else.
	UserinfoSubject string
}

// groupStorage adds the groups and preferred_username claims to every ID
// token and userinfo answer (or where Options.Claims says).
type groupStorage struct {
	*storage.Storage
	opts   Options
	mu     sync.Mutex
	groups map[string][]string
	names  map[string]string
}

func (g *groupStorage) add(info *oidc.UserInfo, subject string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	info.PreferredUsername = g.names[subject]
	if gs, ok := g.groups[subject]; ok {
		info.AppendClaims("groups", gs)
	}
	if g.opts.Extra != nil {
		for k, v := range g.opts.Extra(subject) {
			info.AppendClaims(k, v)
		}
	}
}

// only keeps the subject of info.
func only(info *oidc.UserInfo) { *info = oidc.UserInfo{Subject: info.Subject} }

func (g *groupStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := g.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	if g.opts.Claims == InUserinfo {
		only(info)
		return nil
	}
	g.add(info, token.GetSubject())
	return nil
}

func (g *groupStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := g.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if g.opts.Claims == InIDToken {
		only(info)
	} else {
		g.add(info, subject)
	}
	if g.opts.UserinfoSubject != "" {
		info.Subject = g.opts.UserinfoSubject
	}
	return nil
}

// GetClientByClientID hands out the clients with JWT access tokens
// (RFC 9068 shape: iss, sub, aud, exp, iat, client_id, jti), as the API's
// bearer tokens.
func (g *groupStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := g.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

// GetPrivateClaimsFromScopes adds the user name and groups to JWT access
// tokens, as providers configured for API access do.
func (g *groupStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := g.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	claims["preferred_username"] = g.names[userID]
	if gs, ok := g.groups[userID]; ok {
		claims["groups"] = gs
	}
	return claims, nil
}

// jwtClient is a client whose access tokens are JWTs.
type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// SetGroups changes a user's groups (to test that shrinking groups takes
// effect at the next login).
func (p *Provider) SetGroups(userID string, groups []string) {
	p.groups.mu.Lock()
	defer p.groups.mu.Unlock()
	p.groups.groups[userID] = groups
}

// Start runs a provider on 127.0.0.1 with one confidential web client and
// the users; it stops when the test ends. Its access tokens are JWTs
// (header typ "JWT", as several providers issue them) carrying
// preferred_username and groups.
func Start(t testing.TB, clientID, secret string, redirectURIs []string, us []User) *Provider {
	t.Helper()
	return StartWith(t, clientID, secret, redirectURIs, us, Options{})
}

// StartWith is Start with the claims placed and shaped as o says.
func StartWith(t testing.TB, clientID, secret string, redirectURIs []string, us []User, o Options) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	u := users{byID: map[string]*storage.User{}, byName: map[string]*storage.User{}}
	gs := &groupStorage{opts: o, groups: map[string][]string{}, names: map[string]string{}}
	for _, x := range us {
		su := &storage.User{ID: x.ID, Username: x.Username, Password: x.Password, FirstName: x.Username,
			LastName: "Test", Email: x.Username + "@example.test", EmailVerified: true, PreferredLanguage: language.English}
		u.byID[x.ID], u.byName[x.Username] = su, su
		gs.groups[x.ID], gs.names[x.ID] = x.Groups, x.Username
	}
	clients := map[string]*storage.Client{clientID: storage.WebClient(clientID, secret, redirectURIs...)}
	gs.Storage = storage.NewStorageWithClients(u, clients)
	router := exampleop.SetupServer(issuer, gs, nil, false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Logf("test OP: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return &Provider{Issuer: issuer, srv: srv, groups: gs}
}
