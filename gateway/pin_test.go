package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// webConfig writes and loads a config with one BMC whose web section is
// given (indented under the BMC), with its password in a file.
func webConfig(t *testing.T, webSection string) *configs.Config {
	t.Helper()
	c, err := assemble.LoadConfig(writeWebConfig(t, webSection), false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeWebConfig writes webConfig's file and returns its path.
func writeWebConfig(t *testing.T, webSection string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("bmc-Passw0rd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := `version: 1
data_dir: data
users:
  - name: alice
    ssh_keys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQvzu4De76WU/hmNm+vy+MVyGF1K6VmtUIVK/QRWtL2 alice@example.com"
bmcs:
  - name: node01
    address: 127.0.0.1
    ipmi:
      username: bmcgate
      password_file: pw
` + webSection
	path := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPin(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	fp := webui.Fingerprint(srv.Certificate())
	other := strings.Repeat("AB", 32)
	tests := []struct {
		name, pin, answer string
		wantErr           error
		want              []string
	}{
		{"confirmed", other, "y\n", nil, []string{"SHA-256:  " + fp, "NOT the pinned certificate", `pin_sha256: "` + fp + `"`, "bmcs[0].web.tls"}},
		{"refused", other, "n\n", offline.ErrNotConfirmed, []string{"SHA-256:  " + fp, "[y/N]"}},
		{"no answer", other, "", offline.ErrNotConfirmed, nil},
		{"already pinned", fp, "", nil, []string{"already pinned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := webConfig(t, "    web:\n      url: "+srv.URL+"\n      tls:\n        pin_sha256: \""+tt.pin+"\"\n")
			var out bytes.Buffer
			err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", In: strings.NewReader(tt.answer), Out: &out})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.wantErr != nil && strings.Contains(out.String(), "pin_sha256:") {
				t.Errorf("pin line printed without confirmation")
			}
		})
	}
	c := webConfig(t, "")
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "node01", In: strings.NewReader("y\n"), Out: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), "no web section") {
		t.Errorf("BMC without web: %v", err)
	}
	if err := offline.Pin(context.Background(), offline.PinOptions{Config: c, BMC: "nope", Out: &bytes.Buffer{}}); err == nil {
		t.Error("unknown BMC accepted")
	}
}

// TestWebLoginNamesMatch keeps the config's list of login names and the
// proxy's shipped profiles equal.
func TestWebLoginNamesMatch(t *testing.T) {
	want := append([]string{configs.WebLoginNone}, webui.BuiltinNames()...)
	got := append([]string(nil), configs.WebLoginProfiles...)
	if strings.Join(sorted(got), ",") != strings.Join(sorted(want), ",") {
		t.Errorf("configs.WebLoginProfiles %v, proxy/webui profiles %v", got, want)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestBMCWebBrokerFromConfig builds a BMC's web broker from config and
// serves a request through it with a Redfish session from the pool; the
// gateway's own account is protected.
func TestBMCWebBrokerFromConfig(t *testing.T) {
	var sessions atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/redfish/v1/SessionService/Sessions":
			sessions.Add(1)
			w.Header().Set("X-Auth-Token", "tok-1")
			w.Header().Set("Location", "/redfish/v1/SessionService/Sessions/1")
			w.WriteHeader(http.StatusCreated)
		case r.Method == "DELETE":
			sessions.Add(-1)
		case r.Header.Get("X-Auth-Token") != "tok-1":
			http.Error(w, "", http.StatusUnauthorized)
		case r.URL.Path == "/redfish/v1/AccountService/Accounts/2":
			_, _ = w.Write([]byte(`{"UserName":"bmcgate"}`))
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	c := webConfig(t, "    web:\n      url: "+srv.URL+"\n      tls:\n        pin_sha256: \""+webui.Fingerprint(srv.Certificate())+"\"\n")
	b, err := assemble.NewBMCWeb(c.BMCs[0], c.WebProfiles, []string{"bmcgate_session"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := b.Pool.Acquire(ctx, "user-session-1")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, path string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, "https://node01.bmc.test"+path, strings.NewReader(`{}`))
		b.Proxy.Serve(rec, req, webui.Request{PublicHost: "node01.bmc.test", Session: s, Authorize: func(webui.Operation) error { return nil }})
		return rec.Code
	}
	if code := serve("GET", "/redfish/v1"); code != 200 {
		t.Errorf("GET through the broker: %d", code)
	}
	if code := serve("PATCH", "/redfish/v1/AccountService/Accounts/2"); code != 403 {
		t.Errorf("change of the gateway's own account: %d", code)
	}
	b.Pool.Close(ctx)
	if n := sessions.Load(); n != 0 {
		t.Errorf("%d BMC sessions left", n)
	}
}

// TestCustomWebProfile logs in with a profile defined in the config.
func TestCustomWebProfile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/login":
			_, _ = w.Write([]byte(`{"access_token":"xcc-tok"}`))
		case "/api/logout":
		default:
			if r.Header.Get("X-Token") != "xcc-tok" {
				http.Error(w, "", http.StatusUnauthorized)
			}
		}
	}))
	defer srv.Close()
	c := webConfig(t, "    web:\n      url: "+srv.URL+"\n      tls: {insecure_skip_verify_dangerous: true}\n      login: xcc\n"+`web_profiles:
  - name: xcc
    login:
      - method: POST
        path: /api/login
        content_type: application/json
        body: '{"username":"{{username}}","password":"{{password}}"}'
        capture:
          - {var: token, from: json, name: access_token}
    logout: {method: POST, path: /api/logout}
    replay:
      - {as: header, name: X-Token, var: token}
`)
	b, err := assemble.NewBMCWeb(c.BMCs[0], c.WebProfiles, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Proxy.Insecure() {
		t.Error("insecure BMC not flagged")
	}
	s, err := b.Pool.Acquire(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	b.Proxy.Serve(rec, httptest.NewRequest("GET", "https://node01.bmc.test/", nil), webui.Request{PublicHost: "node01.bmc.test", Session: s, Authorize: func(webui.Operation) error { return nil }})
	if rec.Code != 200 {
		t.Errorf("status %d", rec.Code)
	}
	b.Pool.Close(context.Background())
}

// TestWebHeaderNamesChecked: a BMC's extra header lists may not add what
// the proxy never passes; config check names the field.
func TestWebHeaderNamesChecked(t *testing.T) {
	_, err := assemble.LoadConfig(writeWebConfig(t, `    web:
      url: https://10.0.0.1
      tls: {insecure_skip_verify_dangerous: true}
      request_headers: [ST2, X-Forwarded-For, Remote-User]
      response_headers: [Alt-Svc]
`), true)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	for _, want := range []string{":16: bmcs[0].web.request_headers[1]: X-Forwarded-For", ":16: bmcs[0].web.request_headers[2]: Remote-User", ":17: bmcs[0].web.response_headers[0]: Alt-Svc never passes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("config check does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "ST2") {
		t.Errorf("ST2 refused:\n%s", msg)
	}
}
