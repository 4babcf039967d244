package webui

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestTLSVerification(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	otherCert := newCert(t)
	roots := x509.NewCertPool()
	roots.AddCert(bmc.cert())
	tests := []struct {
		name string
		tls  TLS
		want int
	}{
		{"pin matches", TLS{PinSHA256: Fingerprint(bmc.cert())}, 200},
		{"pin lower case no colons", TLS{PinSHA256: strings.ToLower(strings.ReplaceAll(Fingerprint(bmc.cert()), ":", ""))}, 200},
		{"pin of another cert", TLS{PinSHA256: Fingerprint(otherCert.Leaf)}, 502},
		{"CA bundle", TLS{Roots: roots}, 200},
		{"CA bundle wrong name", TLS{Roots: roots, ServerName: "bmc.invalid"}, 502},
		{"CA bundle without the issuer", TLS{Roots: x509.NewCertPool()}, 502},
		{"insecure opt-in", TLS{InsecureSkipVerifyDangerous: true}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pinnedConfig(bmc)
			cfg.TLS = tt.tls
			p := mustNew(t, cfg)
			fr := newFront(t, p, Request{})
			resp, body := fr.do(t, "GET", "/", nil, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.want, body)
			}
			if tt.want == 502 && strings.Contains(body, "certificate") {
				t.Errorf("user sees the cause: %q", body)
			}
			if s := fr.lastAudit(t); tt.want == 502 && s.Err == nil {
				t.Error("summary carries no cause for the failure")
			}
		})
	}
}

func TestConfigRefused(t *testing.T) {
	pin := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no verification chosen", Config{URL: "https://10.0.0.5"}},
		{"two verifications", Config{URL: "https://10.0.0.5", TLS: TLS{PinSHA256: pin, InsecureSkipVerifyDangerous: true}}},
		{"short pin", Config{URL: "https://10.0.0.5", TLS: TLS{PinSHA256: "abcd"}}},
		{"http", Config{URL: "http://10.0.0.5", TLS: TLS{PinSHA256: pin}}},
		{"path", Config{URL: "https://10.0.0.5/ui", TLS: TLS{PinSHA256: pin}}},
		{"user info", Config{URL: "https://u:p@10.0.0.5", TLS: TLS{PinSHA256: pin}}},
		{"bad extra port", Config{URL: "https://10.0.0.5", TLS: TLS{PinSHA256: pin}, ExtraPorts: []int{70000}}},
		{"bmc_name without name", Config{URL: "https://10.0.0.5", TLS: TLS{PinSHA256: pin}, HostHeader: HostBMCName}},
		{"unknown host mode", Config{URL: "https://10.0.0.5", TLS: TLS{PinSHA256: pin}, HostHeader: "x"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestHostHeaderModes(t *testing.T) {
	var want string
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != want {
			http.Error(w, "bad host", http.StatusBadRequest) // what many BMC UIs do
			return
		}
		fmt.Fprint(w, "ok")
	}))
	tests := []struct {
		mode HostMode
		want string
	}{
		{"", bmc.hostPort()},
		{HostBMCAddress, bmc.hostPort()},
		{HostBMCName, "idrac-node01.mgmt.example.com:" + strings.Split(bmc.hostPort(), ":")[1]},
		{HostPassthrough, publicHost},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			cfg := pinnedConfig(bmc)
			cfg.HostHeader, cfg.HostName = tt.mode, "idrac-node01.mgmt.example.com"
			want = tt.want
			fr := newFront(t, mustNew(t, cfg), Request{})
			// The browser's Host and an absolute URI must not matter.
			resp, body := fr.do(t, "GET", "/start.html", nil, map[string]string{"Host": "evil.example"})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		})
	}
}

func TestLocationAndCookies(t *testing.T) {
	var bmc *fakeBMC
	bmc = newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "https://"+bmc.hostPort()+"/restgui/start.html?x=1", http.StatusFound)
		case "/bare":
			w.Header().Set("Location", "https://127.0.0.1/login") // no port: the BMC's main port
			w.WriteHeader(http.StatusFound)
		case "/elsewhere":
			http.Redirect(w, r, "https://vendor.example/help", http.StatusFound)
		case "/relative":
			http.Redirect(w, r, "/x/y", http.StatusFound)
		case "/cookies":
			http.SetCookie(w, &http.Cookie{Name: "lang", Value: "en", Domain: "127.0.0.1", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "pref", Value: "1", Domain: ".bmc.example.com"})
			http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: "refreshed-secret", Path: "/", HttpOnly: true})
			http.SetCookie(w, &http.Cookie{Name: "gw_session", Value: "forged"})
		case "/check":
			c, err := r.Cookie("SESSION")
			if err != nil {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, c.Value)
		}
	}))
	cfg := pinnedConfig(bmc)
	cfg.GatewayCookies = []string{"gw_session"}
	sess := NewStaticSession(nil, map[string]string{"SESSION": "first-secret"})
	fr := newFront(t, mustNew(t, cfg), Request{Session: sess})

	cases := []struct{ path, want string }{
		{"/", "https://" + publicHost + "/restgui/start.html?x=1"},
		{"/bare", "https://" + publicHost + "/login"},
		{"/elsewhere", "https://vendor.example/help"},
		{"/relative", "/x/y"},
	}
	if !strings.HasPrefix(bmc.hostPort(), "127.0.0.1:") {
		t.Fatalf("unexpected test server address %s", bmc.hostPort())
	}
	for _, c := range cases {
		resp, _ := fr.do(t, "GET", c.path, nil, nil)
		if got := resp.Header.Get("Location"); got != c.want {
			t.Errorf("%s: Location %q, want %q", c.path, got, c.want)
		}
	}

	resp, _ := fr.do(t, "GET", "/cookies", nil, nil)
	got := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		got[c.Name] = c
	}
	for _, name := range []string{"lang", "pref"} {
		c := got[name]
		if c == nil || c.Domain != "" || !c.Secure {
			t.Errorf("cookie %s not made host-only and Secure: %+v", name, c)
		}
	}
	if got["SESSION"] != nil || got["gw_session"] != nil {
		t.Errorf("session or gateway cookie reached the browser: %v", resp.Header.Values("Set-Cookie"))
	}
	// The refreshed BMC session cookie is used from now on.
	if _, body := fr.do(t, "GET", "/check", nil, map[string]string{"Cookie": "SESSION=client-forged; gw_session=gw"}); body != "refreshed-secret" {
		t.Errorf("BMC saw session %q, want the refreshed one", body)
	}
	if c := bmc.lastHit().Header.Get("Cookie"); strings.Contains(c, "gw_session") || strings.Contains(c, "client-forged") {
		t.Errorf("BMC got client cookies it must not: %q", c)
	}
}

func TestHeaderHygiene(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	cfg := pinnedConfig(bmc)
	cfg.GatewayHeaders = []string{"X-Gateway-User"}
	sess := NewStaticSession(map[string]string{"X-Auth-Token": "bmc-token", "X-CSRF-Token": "csrf-1"}, nil)
	fr := newFront(t, mustNew(t, cfg), Request{Session: sess})
	hostile := map[string]string{
		"X-Forwarded-For":        "1.2.3.4",
		"X-Forwarded-Host":       "evil",
		"X_Forwarded_For":        "1.2.3.4",
		"Forwarded":              "for=1.2.3.4",
		"X-Real-IP":              "1.2.3.4",
		"X_Real_IP":              "1.2.3.4",
		"X-Auth-Token":           "client-token",
		"Authorization":          "Basic cm9vdDpjYWx2aW4=",
		"X-HTTP-Method-Override": "DELETE",
		"X-Gateway-User":         "admin",
		"X_Gateway_User":         "admin",
		"X-Bmcgate-Anything":     "1",
		"True-Client-IP":         "1.2.3.4",
		"Connection":             "Upgrade, HTTP2-Settings",
		"Upgrade":                "h2c",
		"HTTP2-Settings":         "AAMAAABkAAQAAP__",
		"Proxy-Authorization":    "Basic eA==",
	}
	resp, _ := fr.do(t, "GET", "/data", nil, hostile)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := bmc.lastHit().Header
	for name := range hostile {
		if v := got.Values(name); len(v) > 0 && !(name == "X-Auth-Token" && v[0] == "bmc-token" && len(v) == 1) {
			t.Errorf("BMC received %s: %q", name, v)
		}
	}
	for name := range got {
		if strings.Contains(strings.ToLower(name), "forward") || strings.Contains(name, "_") {
			t.Errorf("BMC received %s", name)
		}
	}
	if got.Get("X-Auth-Token") != "bmc-token" || got.Get("X-CSRF-Token") != "csrf-1" {
		t.Errorf("session headers not attached: %v", got)
	}
}

// TestCredentialsWithoutSession: with login: none the user logs in to the
// BMC UI itself, so its own token and Authorization reach the BMC; the
// forwarding headers are still removed.
func TestCredentialsWithoutSession(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	fr := newFront(t, mustNew(t, pinnedConfig(bmc)), Request{})
	fr.do(t, "GET", "/redfish/v1", nil, map[string]string{"X-Auth-Token": "user-token", "Authorization": "Basic dTpw", "X-Forwarded-For": "1.2.3.4"})
	h := bmc.lastHit().Header
	if h.Get("X-Auth-Token") != "user-token" || h.Get("Authorization") != "Basic dTpw" || h.Get("X-Forwarded-For") != "" {
		t.Errorf("BMC got %v", h)
	}
}

func TestOriginAndReferer(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://"+r.Host)
	}))
	fr := newFront(t, mustNew(t, pinnedConfig(bmc)), Request{})
	bmcOrigin := "https://" + bmc.hostPort()

	resp, _ := fr.do(t, "POST", "/data", strings.NewReader("x"), map[string]string{
		"Origin": "https://" + publicHost, "Referer": "https://" + publicHost + "/page?a=1",
	})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h := bmc.lastHit().Header
	if h.Get("Origin") != bmcOrigin || h.Get("Referer") != bmcOrigin+"/page?a=1" {
		t.Errorf("BMC saw Origin %q Referer %q", h.Get("Origin"), h.Get("Referer"))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://"+publicHost {
		t.Errorf("ACAO %q", got)
	}

	// A foreign origin may read (the browser keeps the answer from it) but
	// not write.
	n := bmc.hitCount()
	resp, _ = fr.do(t, "POST", "/data", strings.NewReader("x"), map[string]string{"Origin": "https://evil.example"})
	if resp.StatusCode != 403 || bmc.hitCount() != n {
		t.Errorf("cross-origin write: status %d, forwarded %v", resp.StatusCode, bmc.hitCount() != n)
	}
	fr.do(t, "GET", "/data", nil, map[string]string{"Origin": "https://evil.example", "Referer": "https://evil.example/x"})
	if h := bmc.lastHit().Header; h.Get("Origin") != "" || h.Get("Referer") != "" {
		t.Errorf("foreign Origin/Referer forwarded: %v", h)
	}
}

func TestAuthorizeAndAudit(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "done") }))
	var seen []Operation
	fr := newFront(t, mustNew(t, pinnedConfig(bmc)), Request{Authorize: func(op Operation) error {
		seen = append(seen, op)
		if op.Action == ActionPowerCycle {
			return denied{"power.cycle on node01 is not allowed for your role"}
		}
		return nil
	}})
	resp, body := fr.do(t, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", strings.NewReader(`{"ResetType":"PowerCycle"}`), nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "not allowed for your role") || bmc.hitCount() != 0 {
		t.Fatalf("denied reset: status %d body %q hits %d", resp.StatusCode, body, bmc.hitCount())
	}
	s := fr.lastAudit(t)
	if s.Operation.Redfish != "ComputerSystem.Reset" || s.Operation.ResetType != "PowerCycle" || s.Status != 403 || s.Refused == "" {
		t.Errorf("summary %+v", s)
	}

	resp, _ = fr.do(t, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", strings.NewReader(`{"ResetType":"On"}`), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("allowed reset: %d", resp.StatusCode)
	}
	// The body the BMC gets is the one that was classified.
	if bmc.lastHit().ContentLength != int64(len(`{"ResetType":"On"}`)) {
		t.Errorf("BMC got content length %d", bmc.lastHit().ContentLength)
	}
	fr.do(t, "GET", "/redfish/v1/Systems?token=secret123&$top=5", nil, nil)
	s = fr.lastAudit(t)
	if s.Path != "/redfish/v1/Systems?token=*&$top=*" || strings.Contains(fmt.Sprint(s), "secret123") {
		t.Errorf("audit path %q", s.Path)
	}
	if s.Method != "GET" || s.Status != 200 || s.BytesOut != 4 || s.Duration <= 0 || s.Operation.Action != ActionWebAccess {
		t.Errorf("summary %+v", s)
	}
	if len(seen) != 3 {
		t.Errorf("authorize called %d times", len(seen))
	}
}

func TestNilAuthorizeRefuses(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	p := mustNew(t, pinnedConfig(bmc))
	srv := newFront(t, p, Request{})
	srv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Serve(w, r, Request{PublicHost: publicHost})
	})
	if resp, _ := srv.do(t, "GET", "/", nil, nil); resp.StatusCode != 403 || bmc.hitCount() != 0 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := readBody(r); err != nil {
			return
		}
	}))
	cfg := pinnedConfig(bmc)
	cfg.MaxRequestBody = 1000
	cfg.MaxHeaderBytes = 2000
	fr := newFront(t, mustNew(t, cfg), Request{})
	if resp, _ := fr.do(t, "POST", "/upload", strings.NewReader(strings.Repeat("x", 5000)), nil); resp.StatusCode != 413 && resp.StatusCode != 502 {
		t.Errorf("big body: status %d", resp.StatusCode)
	}
	if resp, _ := fr.do(t, "GET", "/", nil, map[string]string{"X-Big": strings.Repeat("y", 3000)}); resp.StatusCode != 431 {
		t.Errorf("big header: status %d", resp.StatusCode)
	}
}
