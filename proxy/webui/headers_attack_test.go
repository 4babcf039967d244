package webui

import (
	"net/http"
	"strings"
	"testing"
)

// loadHeaderCorpus reads a header-name corpus from testdata: one name per
// line.
func loadHeaderCorpus(t *testing.T, name string) []string {
	t.Helper()
	out := corpusLines(t, name)
	if len(out) < 20 {
		t.Fatalf("%s: only %d names", name, len(out))
	}
	return out
}

// headerSpellings are the ways a name may be written on the wire that some
// server folds into it: as given, with underscores for dashes, lower case.
func headerSpellings(name string) []string {
	return []string{name, strings.ReplaceAll(name, "-", "_"), strings.ToLower(name)}
}

// sameHeaderName reports whether two names would be folded together by a
// lenient server (case and '_'/'-' ignored).
func sameHeaderName(a, b string) bool {
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "-")) }
	return fold(a) == fold(b)
}

// TestRequestHeaderCorpus sends every name of the corpus, in every
// spelling, through the proxy with and without a gateway-held BMC session:
// none reaches the BMC, and what does reach it is on the allow-list.
func TestRequestHeaderCorpus(t *testing.T) {
	corpus := loadHeaderCorpus(t, "request_headers_attack.txt")
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, withSession := range []bool{false, true} {
		req := Request{}
		if withSession {
			req.Session = NewStaticSession(map[string]string{"X-Auth-Token": "bmc-token"}, nil)
		}
		fr := newFront(t, mustNew(t, pinnedConfig(bmc)), req)
		hdr := map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}
		for _, n := range corpus {
			for _, sp := range headerSpellings(n) {
				hdr[sp] = "attack"
			}
		}
		resp, _ := fr.do(t, "GET", "/redfish/v1", nil, hdr)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("session %v: status %d", withSession, resp.StatusCode)
		}
		got := bmc.lastHit().Header
		for name, vs := range got {
			for _, n := range corpus {
				if sameHeaderName(name, n) {
					t.Errorf("session %v: BMC received %s: %q", withSession, name, vs)
				}
			}
			if !requestAllowed[strings.ToLower(name)] && !requestCredentials[strings.ToLower(name)] {
				t.Errorf("session %v: BMC received %s, which is not on the allow-list", withSession, name)
			}
		}
		if got.Get("Accept") != "text/html" || got.Get("X-Requested-With") != "XMLHttpRequest" {
			t.Errorf("session %v: allowed headers lost: %v", withSession, got)
		}
	}
}

// TestResponseHeaderCorpus has the BMC answer with every name of the
// response corpus: none reaches the browser, and neither do the BMC's
// credential headers while the gateway holds the BMC session.
func TestResponseHeaderCorpus(t *testing.T) {
	corpus := loadHeaderCorpus(t, "response_headers_attack.txt")
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, n := range corpus {
			w.Header().Set(n, "attack")
		}
		w.Header().Set("X-Auth-Token", "bmc-token")
		w.Header().Set("WWW-Authenticate", `Basic realm="bmc"`)
		w.Header().Set("ETag", `"1"`)
		w.Header().Set("Content-Security-Policy", "default-src 'self'; report-uri https://collector.example/r; report-to bmc")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Trailer", "X-Powered-By")
		_, _ = w.Write([]byte("ok"))
		w.Header().Set("X-Powered-By", "trailer")
	}))
	for _, withSession := range []bool{false, true} {
		req := Request{}
		if withSession {
			req.Session = NewStaticSession(map[string]string{"X-Auth-Token": "tok"}, nil)
		}
		fr := newFront(t, mustNew(t, pinnedConfig(bmc)), req)
		resp, body := fr.do(t, "GET", "/page", nil, nil)
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("session %v: %d %q", withSession, resp.StatusCode, body)
		}
		for _, n := range corpus {
			if v := resp.Header.Values(n); len(v) > 0 {
				t.Errorf("session %v: browser received %s: %q", withSession, n, v)
			}
			if v := resp.Trailer.Values(n); len(v) > 0 {
				t.Errorf("session %v: browser received trailer %s: %q", withSession, n, v)
			}
		}
		for _, n := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"} {
			if v := resp.Header.Get(n); v != "" {
				t.Errorf("session %v: %s %q passed", withSession, n, v)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != "default-src 'self'" {
			t.Errorf("session %v: CSP %q", withSession, csp)
		}
		creds := resp.Header.Get("X-Auth-Token") != "" || resp.Header.Get("WWW-Authenticate") != ""
		if creds != !withSession || resp.Header.Get("ETag") != `"1"` {
			t.Errorf("session %v: X-Auth-Token %q, WWW-Authenticate %q, ETag %q", withSession,
				resp.Header.Get("X-Auth-Token"), resp.Header.Get("WWW-Authenticate"), resp.Header.Get("ETag"))
		}
	}
}

// TestExtraHeaders: a BMC's own extra header names pass; names the gateway
// never passes cannot be added.
func TestExtraHeaders(t *testing.T) {
	bmc := newFakeBMC(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Vendor-Session-Hint", "1")
		w.Header().Set("X-Other", "1")
	}))
	cfg := pinnedConfig(bmc)
	cfg.RequestHeaders = []string{"ST2"}
	cfg.ResponseHeaders = []string{"x-vendor-session-hint"}
	fr := newFront(t, mustNew(t, cfg), Request{})
	resp, _ := fr.do(t, "GET", "/x", nil, map[string]string{"ST2": "abc", "X-Other": "1"})
	if got := bmc.lastHit().Header; got.Get("ST2") != "abc" || got.Get("X-Other") != "" {
		t.Errorf("BMC got %v", got)
	}
	if resp.Header.Get("X-Vendor-Session-Hint") != "1" || resp.Header.Get("X-Other") != "" {
		t.Errorf("browser got %v", resp.Header)
	}
	for _, bad := range []string{"X-Forwarded-For", "x_forwarded_for", "Remote-User", "X-Remote-User", "Via", "Client-Ip",
		"X-ProxyUser-Ip", "X-Original-Forwarded-For", "X-Auth-Request-User", "Strict-Transport-Security", "Alt-Svc",
		"X-Frame-Options", "Connection", "X-Bmcgate-User", "bad name", "", "X-Gw"} {
		c := pinnedConfig(bmc)
		c.GatewayHeaders = []string{"X-Gw"}
		c.RequestHeaders = []string{bad}
		if _, err := New(c); err == nil {
			t.Errorf("request_headers %q accepted", bad)
		}
		c.RequestHeaders, c.ResponseHeaders = nil, []string{bad}
		if _, err := New(c); err == nil {
			t.Errorf("response_headers %q accepted", bad)
		}
	}
}
