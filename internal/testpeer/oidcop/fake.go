package oidcop

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Fake is an issuer whose endpoints behave as the test says: /authorize
// sends the browser straight back with a code, and /token answers with an
// ID token built by Shape. It exists to send bad tokens; the good path is
// tested against Start.
type Fake struct {
	Issuer string
	key    *rsa.PrivateKey

	mu sync.Mutex
	// Shape edits the claims (already holding iss, aud, sub, exp, iat,
	// nonce, preferred_username, groups) and may ask for alg none.
	Shape func(claims map[string]any) (none bool)
	// LastNonce is the nonce of the last authorize request.
	LastNonce string
}

// StartFake runs a fake issuer for clientID on 127.0.0.1.
func StartFake(t testing.TB, clientID string) *Fake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{Issuer: "http://" + ln.Addr().String(), key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.Issuer, "authorization_endpoint": f.Issuer + "/authorize",
			"token_endpoint": f.Issuer + "/token", "jwks_uri": f.Issuer + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.LastNonce = q.Get("nonce")
		f.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"code": {"fake-code"}, "state": {q.Get("state")}}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		nonce := f.LastNonce
		shape := f.Shape
		f.mu.Unlock()
		claims := f.Claims(clientID, "alice", []string{"ops"})
		claims["nonce"] = nonce
		none := false
		if shape != nil {
			none = shape(claims)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "opaque", "token_type": "Bearer",
			"expires_in": 300, "id_token": f.Sign(claims, none)})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

// Claims returns valid ID token claims for the client.
func (f *Fake) Claims(aud, user string, groups []string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": f.Issuer, "aud": aud, "sub": "sub-" + user,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"preferred_username": user, "groups": groups}
}

// AccessClaims returns valid claims of an RFC 9068 access token for
// audience aud, requested by client, with the user name and groups.
func (f *Fake) AccessClaims(aud, client, user string, groups []string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": f.Issuer, "aud": aud, "sub": "sub-" + user, "client_id": client,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "jti": "jti-" + user + "-" + strconv.FormatInt(now.UnixNano(), 36),
		"scope": "openid groups", "preferred_username": user, "groups": groups}
}

// Sign makes a JWT of claims with header typ "JWT", signed RS256 or, with
// none, unsigned ("alg":"none").
func (f *Fake) Sign(claims map[string]any, none bool) string {
	if none {
		payload, _ := json.Marshal(claims)
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return h + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	return f.SignTyp(claims, "JWT")
}

// SignTyp makes a JWT of claims signed RS256, with the header typ given
// ("at+jwt" for an access token; "" for none).
func (f *Fake) SignTyp(claims map[string]any, typ string) string {
	payload, _ := json.Marshal(claims)
	opts := (&jose.SignerOptions{}).WithHeader("kid", "k1")
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key}, opts)
	if err != nil {
		panic(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// SetShape installs a claims shaper for the next token responses.
func (f *Fake) SetShape(fn func(map[string]any) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Shape = fn
}
