package demoop

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a demo user at the provider.
type User struct {
	Username, Password string
	Groups             []string
}

// Client is the one confidential client the provider knows (the gateway).
type Client struct {
	ID, Secret   string
	RedirectURIs []string
}

// Provider is a running demo OpenID provider.
type Provider struct {
	issuer string
	srv    *http.Server
	done   chan struct{}
}

// Issuer is the provider's issuer URL (http://127.0.0.1:PORT).
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the provider.
func (p *Provider) Close() error {
	err := p.srv.Close()
	<-p.done
	return err
}

// Start listens on ln and serves the provider with the users and the
// client until Close.
func Start(ln net.Listener, c Client, users []User, log *slog.Logger) (*Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	issuer := "http://" + ln.Addr().String()
	store := newStore(c, users)
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("demo provider key: %w", err)
	}
	cfg := &op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
	}
	provider, err := op.NewProvider(cfg, store, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("demo provider: %w", err)
	}
	mux := http.NewServeMux()
	lp := &loginPage{check: store.CheckUsernamePassword, callback: op.AuthCallbackURL(provider)}
	intercept := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET /login/username", lp.show)
	mux.Handle("POST /login/username", intercept.HandlerFunc(lp.submit))
	mux.Handle("/", provider)
	p := &Provider{issuer: issuer, done: make(chan struct{}),
		srv: &http.Server{Handler: http.MaxBytesHandler(mux, 64<<10), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}}
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo provider", "err", err)
		}
	}()
	return p, nil
}

// store is the example in-memory storage of zitadel/oidc with the demo's
// users and client, adding preferred_username and groups to ID tokens and
// userinfo answers.
type store struct {
	*storage.Storage
	mu     sync.Mutex
	groups map[string][]string
	names  map[string]string
}

// userStore implements storage.UserStore over the demo users.
type userStore struct {
	byID, byName map[string]*storage.User
	client       string
}

func (u userStore) GetUserByID(id string) *storage.User         { return u.byID[id] }
func (u userStore) GetUserByUsername(name string) *storage.User { return u.byName[name] }
func (u userStore) ExampleClientID() string                     { return u.client }

func newStore(c Client, users []User) *store {
	us := userStore{byID: map[string]*storage.User{}, byName: map[string]*storage.User{}, client: c.ID}
	s := &store{groups: map[string][]string{}, names: map[string]string{}}
	for i, x := range users {
		id := fmt.Sprintf("demo-%d", i+1)
		su := &storage.User{ID: id, Username: x.Username, Password: x.Password, FirstName: x.Username,
			LastName: "Demo", Email: x.Username + "@demo.bmcgate.invalid", EmailVerified: true, PreferredLanguage: language.English}
		us.byID[id], us.byName[x.Username] = su, su
		s.groups[id], s.names[id] = x.Groups, x.Username
	}
	clients := map[string]*storage.Client{c.ID: storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)}
	s.Storage = storage.NewStorageWithClients(us, clients)
	return s
}

// errNoServiceAccounts answers every grant that is not a user's login.
// The storage package this provider builds on ships service accounts with
// published secrets and keys; the demo provider offers none of them.
var errNoServiceAccounts = errors.New("the demo provider has no service accounts")

// ClientCredentials refuses the client-credentials grant.
func (s *store) ClientCredentials(context.Context, string, string) (op.Client, error) {
	return nil, errNoServiceAccounts
}

// ClientCredentialsTokenRequest refuses the client-credentials grant.
func (s *store) ClientCredentialsTokenRequest(context.Context, string, []string) (op.TokenRequest, error) {
	return nil, errNoServiceAccounts
}

// GetKeyByIDAndClientID refuses every JWT-profile grant and JWT client
// authentication: no key is trusted.
func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNoServiceAccounts
}

func (s *store) add(info *oidc.UserInfo, subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info.PreferredUsername = s.names[subject]
	if gs, ok := s.groups[subject]; ok {
		info.AppendClaims("groups", gs)
	}
}

func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.add(info, token.GetSubject())
	return nil
}

func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.add(info, subject)
	return nil
}

//go:embed login.html
var files embed.FS

var loginTemplate = template.Must(template.ParseFS(files, "login.html"))

// loginPage is the provider's password login page.
type loginPage struct {
	check    func(username, password, id string) error
	callback func(context.Context, string) string
}

func (l *loginPage) render(w http.ResponseWriter, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http:; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	if msg != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	_ = loginTemplate.Execute(w, struct{ ID, Error string }{id, msg})
}

func (l *loginPage) show(w http.ResponseWriter, r *http.Request) {
	l.render(w, r.URL.Query().Get("authRequestID"), "")
}

func (l *loginPage) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostFormValue("id")
	// The same answer for an unknown name and a wrong password.
	if err := l.check(r.PostFormValue("username"), r.PostFormValue("password"), id); err != nil {
		l.render(w, id, "Login failed")
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
