package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// clockServer is a Server with a clock the test moves, no BMCs and a real
// audit store.
type clockServer struct {
	*Server
	now   time.Time
	audit *audit.Store
}

func newClockServer(t *testing.T) *clockServer {
	t.Helper()
	return newClockServerWith(t, "")
}

// testConfig is the web door's test config, with more YAML under web:
// (indented by two spaces) and its data directory made.
func testConfig(t *testing.T, moreWeb string) *configs.Config {
	t.Helper()
	dir := t.TempDir()
	text := fmt.Sprintf(`version: 1
listen:
  ssh: 127.0.0.1:2222
  https: 127.0.0.1:8443
data_dir: %q
roles:
  - name: admin
    allow:
      - actions: ["*"]
        bmcs: ["*"]
users:
  - name: u
    roles: [admin]
    ssh_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcit62Wk4q6DGPZWfSZnTVDPPDmu7mSzCVKhj409hjC u"]
web:
  oidc:
    issuer: http://127.0.0.1:1
    client_id: bmcgate
    group_roles:
      ops: [admin]
%s`, filepath.Join(dir, "data"), moreWeb)
	cfg, err := configs.Parse(filepath.Join(dir, "bmcgate.yaml"), []byte(text), configs.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := mkdir(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// newClockServerWith is newClockServer with more YAML under web: (indented
// by two spaces).
func newClockServerWith(t *testing.T, moreWeb string) *clockServer {
	t.Helper()
	cfg := testConfig(t, moreWeb)
	dir := t.TempDir()
	store, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	pol, err := authz.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := service.NewInventory(nil)
	if err != nil {
		t.Fatal(err)
	}
	accts := service.NewAccounts(nil, []service.Account{{Name: "u", Roles: []string{"admin"}}}, nil)
	svc := service.New(&service.State{Policy: pol, Inventory: inv, Accounts: accts}, nil, store, slog.New(slog.DiscardHandler))
	cs := &clockServer{now: time.Now(), audit: store}
	cs.Server, err = New(Options{Config: cfg, Service: svc, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return cs.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cs.Close)
	return cs
}

func TestPersonalTokenExpiry(t *testing.T) {
	s := newClockServer(t)
	raw := tokenPrefix + newID()
	if err := s.store.put(bucketTokens, raw, &apiToken{ID: handle(raw), User: "u", Expires: s.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lookupToken(raw); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if _, err := s.lookupToken(raw + "x"); err == nil {
		t.Fatal("unknown token accepted")
	}
	s.now = s.now.Add(61 * time.Minute)
	if _, err := s.lookupToken(raw); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestSessionLookupAndCaller(t *testing.T) {
	s := newClockServer(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://127.0.0.1:8443/", nil)
	if _, err := s.startSession(rec, req, Session{User: "u", Method: methodBreakGlass}); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	req = httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8443/x", nil)
	req.AddCookie(cookie)
	c, ss, ok := s.Caller(req)
	if !ok || c.Name() != "u" || c.Door != "web" || !ss.BreakGlass() || c.Session == cookie.Value {
		t.Fatalf("caller %+v ok=%v", c, ok)
	}
	if s.SameOrigin(req) {
		t.Fatal("no Origin counted as same-origin")
	}
	req.Header.Set("Origin", "https://127.0.0.1:8443")
	if !s.SameOrigin(req) {
		t.Fatal("own origin refused")
	}
	s.now = s.now.Add(31 * time.Minute) // default idle timeout 30m
	if _, _, ok := s.Caller(req); ok {
		t.Fatal("idle session still valid")
	}
}

func mkdir(p string) error { return os.MkdirAll(p, 0o700) }
