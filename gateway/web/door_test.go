package web

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// fakeDoor is the web door over a fake service, with a browser session
// opened through the door's own session store (the login itself is the
// OpenID and break-glass tests' business).
type fakeDoor struct {
	*Server
	f      *fakeService
	cookie *http.Cookie
	csrf   string
}

const fakeOrigin = "https://127.0.0.1:8443"

func newFakeDoor(t *testing.T, f *fakeService) *fakeDoor {
	t.Helper()
	cfg := testConfig(t, "")
	now := time.Now()
	s, err := New(Options{Config: cfg, Service: f, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rec := httptest.NewRecorder()
	ss, err := s.startSession(rec, httptest.NewRequest(http.MethodGet, fakeOrigin+"/", nil), Session{User: "alice", Method: methodBreakGlass})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeDoor{Server: s, f: f, cookie: rec.Result().Cookies()[0], csrf: ss.CSRF}
}

// serve sends one request through the whole door (front, headers,
// routes) as a browser on the door's address would, with the session
// cookie unless anonymous and with the headers in hdr.
func (d *fakeDoor) serve(method, path, body, ctype string, anonymous bool, hdr map[string]string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, fakeOrigin+path, rd)
	r.TLS = &tls.ConnectionState{} // reached by address: no server name
	if !anonymous {
		r.AddCookie(d.cookie)
	}
	if body != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, r)
	return rec
}

// api is serve for the JSON API, with the CSRF header and the door's own
// Origin when csrf is set.
func (d *fakeDoor) api(method, path, body string, anonymous, csrf bool) *httptest.ResponseRecorder {
	var hdr map[string]string
	if csrf {
		hdr = map[string]string{CSRFHeader: d.csrf, "Origin": fakeOrigin}
	}
	return d.serve(method, path, body, "application/json", anonymous, hdr)
}

// page is serve for the browser pages: a form post carries the CSRF token
// in its body and the door's own Origin when csrf is set.
func (d *fakeDoor) page(method, path string, anonymous, csrf bool) *httptest.ResponseRecorder {
	if !csrf {
		return d.serve(method, path, "", "", anonymous, nil)
	}
	return d.serve(method, path, "csrf="+d.csrf, "application/x-www-form-urlencoded", anonymous, map[string]string{"Origin": fakeOrigin})
}

func fakePower() *fakeService {
	return &fakeService{power: map[string]service.Result{
		"node01": {BMC: "node01", OK: true, Value: service.PowerState("on")},
		"node02": {BMC: "node02", Denied: true, Message: `no rule of role(s) "viewer" allows power.status on node02`},
		"node03": {BMC: "node03", Message: "the BMC did not answer in time"},
	}}
}

// TestAPIOverFakeService runs API requests through the web door against a
// fake service: what the service answers becomes the documented status,
// error code and JSON body; requests the door refuses itself (no session,
// no CSRF token, a bad body) never reach the service.
func TestAPIOverFakeService(t *testing.T) {
	d := newFakeDoor(t, fakePower())
	for _, tt := range []struct {
		name, method, path, body string
		anonymous, csrf          bool
		status                   int
		want                     []string // in the body
		called                   string   // the one BMC call the door makes; "" for none
	}{
		{name: "whoami", method: "GET", path: "/api/v1/whoami", status: 200, want: []string{`"user":"alice"`, `"door":"api"`}},
		{name: "list", method: "GET", path: "/api/v1/bmcs?select=node0*", status: 200, want: []string{`"name":"node01"`, `"name":"node03"`}, called: "list node0*"},
		{name: "info", method: "GET", path: "/api/v1/bmcs/node01", status: 200, want: []string{`"address":"192.0.2.1:623"`}, called: "info node01"},
		{name: "info of an unknown BMC", method: "GET", path: "/api/v1/bmcs/node99", status: 404, want: []string{`"unknown_bmc"`, "node99: unknown BMC"}, called: "info node99"},
		{name: "power status", method: "GET", path: "/api/v1/bmcs/node01/power", status: 200, want: []string{`"state":"on"`}, called: "power status node01"},
		{name: "power status denied", method: "GET", path: "/api/v1/bmcs/node02/power", status: 403, want: []string{`"denied"`, "no rule of role"}, called: "power status node02"},
		{name: "power status, BMC failed", method: "GET", path: "/api/v1/bmcs/node03/power", status: 502, want: []string{`"bmc_error"`, "did not answer in time"}, called: "power status node03"},
		{name: "power cycle", method: "POST", path: "/api/v1/bmcs/node01/power", body: `{"action":"cycle"}`, csrf: true, status: 200, want: []string{`"action":"cycle"`, `"result":"sent"`}, called: "power cycle node01"},
		{name: "power cycle without CSRF token", method: "POST", path: "/api/v1/bmcs/node01/power", body: `{"action":"cycle"}`, status: 403},
		{name: "power with a bad action", method: "POST", path: "/api/v1/bmcs/node01/power", body: `{"action":"explode"}`, csrf: true, status: 400, want: []string{`"bad_request"`}},
		{name: "power with an unknown field", method: "POST", path: "/api/v1/bmcs/node01/power", body: `{"action":"on","force":true}`, csrf: true, status: 400, want: []string{`"bad_request"`}},
		{name: "event log limit out of range", method: "GET", path: "/api/v1/bmcs/node01/sel?limit=5000", status: 400, want: []string{"limit must be"}},
		{name: "event log", method: "GET", path: "/api/v1/bmcs/node01/sel?limit=5", status: 200, want: []string{`"bmc":"node01"`}, called: "sel node01"},
		{name: "no session", method: "GET", path: "/api/v1/bmcs", anonymous: true, status: 401, want: []string{`"unauthorized"`}},
		{name: "no such endpoint", method: "GET", path: "/api/v1/nope", status: 404, want: []string{`"not_found"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d.f.reset()
			rec := d.api(tt.method, tt.path, tt.body, tt.anonymous, tt.csrf)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); tt.status != 403 && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body %s lacks %s", rec.Body, w)
				}
			}
			d.f.mu.Lock()
			defer d.f.mu.Unlock()
			if tt.called == "" && len(d.f.calls) != 0 || tt.called != "" && (len(d.f.calls) != 1 || d.f.calls[0] != tt.called) {
				t.Errorf("service calls %q, want %q", d.f.calls, tt.called)
			}
		})
	}
}

// TestPagesOverFakeService renders the dashboard and BMC pages from a fake
// service's answers, and sends a power action through its confirmation
// form's POST.
func TestPagesOverFakeService(t *testing.T) {
	d := newFakeDoor(t, fakePower())
	for _, tt := range []struct {
		name, method, path string
		anonymous, csrf    bool
		status             int
		want               []string
		location           string
		called             []string
		refused            bool // a denied decision recorded
	}{
		{name: "dashboard", method: "GET", path: "/", status: 200,
			want: []string{`id="bmc-node01"`, `class="power-on"`, `href="/bmc/node01/power/cycle"`, `id="bmc-node03"`, "unreachable (the BMC did not answer in time)"}},
		{name: "dashboard without a session", method: "GET", path: "/", anonymous: true, status: http.StatusSeeOther, location: "/login"},
		{name: "BMC page", method: "GET", path: "/bmc/node01", status: 200, want: []string{"node01", "192.0.2.1:623"},
			called: []string{"power status node01", "info node01", "sel node01"}},
		{name: "unknown BMC page", method: "GET", path: "/bmc/node99", status: 404, want: []string{"Unknown BMC."}},
		{name: "power cycle", method: "POST", path: "/bmc/node01/power/cycle", csrf: true, status: http.StatusSeeOther,
			location: "/bmc/node01?done=cycle", called: []string{"power cycle node01"}},
		{name: "power cycle, BMC failed", method: "POST", path: "/bmc/node03/power/cycle", csrf: true, status: http.StatusBadGateway,
			want: []string{"power cycle node03: the BMC did not answer in time"}, called: []string{"power cycle node03"}},
		{name: "power cycle without CSRF token", method: "POST", path: "/bmc/node01/power/cycle", status: http.StatusForbidden, refused: true},
		{name: "power status is no action", method: "POST", path: "/bmc/node01/power/status", csrf: true, status: 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d.f.reset()
			rec := d.page(tt.method, tt.path, tt.anonymous, tt.csrf)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.location != "" && !strings.HasPrefix(rec.Header().Get("Location"), tt.location) {
				t.Errorf("Location %q, want %q", rec.Header().Get("Location"), tt.location)
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %q:\n%s", w, rec.Body)
				}
			}
			d.f.mu.Lock()
			defer d.f.mu.Unlock()
			if strings.Join(d.f.calls, ";") != strings.Join(tt.called, ";") {
				t.Errorf("service calls %q, want %q", d.f.calls, tt.called)
			}
			refused := false
			for _, r := range d.f.recs {
				refused = refused || r.Code == audit.CodeDecision && r.Outcome == audit.OutcomeDeny
			}
			if refused != tt.refused {
				t.Errorf("refusal recorded: %v, want %v (%+v)", refused, tt.refused, d.f.recs)
			}
		})
	}
}
