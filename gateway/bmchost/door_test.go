package bmchost

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/webui"
)

// fakeService is the service layer as the BMC hosts see it (Service): the
// BMCs in bmcs exist, every action is allowed but those in deny (and
// web.access of a user in withdrawn), and every decision and record is
// kept.
type fakeService struct {
	bmcs map[string]bool

	mu        sync.Mutex
	deny      map[authz.Action]bool
	withdrawn map[string]bool // users who lost web.access
	decided   []string        // "action bmc allowed|denied"
	recs      []audit.Record
}

func (f *fakeService) allowed(c service.Caller, a authz.Action) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.deny[a] && !(a == authz.WebAccess && f.withdrawn[c.Name()])
}

func (f *fakeService) Audit(_ context.Context, r audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append(f.recs, r)
	return nil
}
func (f *fakeService) AuditQueued(ctx context.Context, r audit.Record) error { return f.Audit(ctx, r) }
func (f *fakeService) Resolve(c service.Caller) (authz.Principal, error) {
	return authz.Principal{Name: c.Name(), Door: c.Door}, nil
}
func (f *fakeService) Decide(_ context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error) {
	ok := f.allowed(c, a)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[bool]string{true: "allowed", false: "denied"}[ok]
	f.decided = append(f.decided, string(a)+" "+t.Name+" "+out)
	d := authz.Decision{Allowed: ok, Action: a, Principal: c.Name(), Target: t.Name}
	if !ok {
		d.Reason = "no rule allows " + string(a)
	}
	return d, nil
}
func (f *fakeService) Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC) {
	if !f.bmcs[name] {
		return authz.Decision{Action: a, Reason: "unknown BMC"}, nil
	}
	d := authz.Decision{Allowed: f.allowed(c, a), Action: a, Principal: c.Name(), Target: name}
	if !d.Allowed {
		d.Reason = "no rule allows " + string(a)
	}
	return d, &service.BMC{Name: name}
}

// take returns and forgets the decisions and records so far.
func (f *fakeService) take() ([]string, []audit.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, r := f.decided, f.recs
	f.decided, f.recs = nil, nil
	return d, r
}

// fakeUsers is the main door's side of the hand-off: user sessions by id,
// ended ones with why.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]User
	ended map[string]string
	reads int
}

func (f *fakeUsers) User(r *http.Request, id string) (User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	u, ok := f.users[id]
	if !ok || f.ended[id] != "" {
		return User{}, errors.New("no such session")
	}
	u.Caller.Source = httpfront.RemoteIP(r)
	return u, nil
}

func (f *fakeUsers) Check(id string) (service.Caller, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	switch {
	case !ok:
		return service.Caller{}, "the bmcgate session ended"
	case f.ended[id] != "":
		return service.Caller{}, "the bmcgate session ended: " + f.ended[id]
	}
	u.Caller.Source = ""
	return u.Caller, ""
}

func (f *fakeUsers) end(id, why string) {
	f.mu.Lock()
	f.ended[id] = why
	f.mu.Unlock()
}

// fakeUIs are the brokers: one proxy per BMC; released user sessions are
// kept.
type fakeUIs struct {
	m        map[string]UI
	mu       sync.Mutex
	released []string
}

func (f *fakeUIs) UI(name string) (UI, bool) { u, ok := f.m[name]; return u, ok }
func (f *fakeUIs) Release(_ context.Context, key string) {
	f.mu.Lock()
	f.released = append(f.released, key)
	f.mu.Unlock()
}

type noter struct{ svc *fakeService }

func (n noter) Note(ctx context.Context, _ string, rec audit.Record) error {
	return n.svc.Audit(ctx, rec)
}

// hostsOverFakes are BMC hosts over fakes: node01 and node02 exist, with a
// web UI each at an httptest BMC, and the user session "uid" of alice.
type hostsOverFakes struct {
	h     *Hosts
	svc   *fakeService
	users *fakeUsers
	uis   *fakeUIs
	now   time.Time
	hits  func() int
}

func newHostsOverFakes(t *testing.T) *hostsOverFakes {
	t.Helper()
	var mu sync.Mutex
	hits := 0
	bmc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		if c, err := r.Cookie(Cookie); err == nil {
			http.Error(w, "the gateway's cookie reached the BMC: "+c.Value, http.StatusTeapot)
			return
		}
		_, _ = io.WriteString(w, "hello from the BMC at "+r.URL.Path)
	}))
	bmc.Config.ErrorLog = log.New(io.Discard, "", 0)
	bmc.StartTLS()
	t.Cleanup(bmc.Close)
	o := &hostsOverFakes{svc: &fakeService{bmcs: map[string]bool{"node01": true, "node02": true}, deny: map[authz.Action]bool{}, withdrawn: map[string]bool{}},
		users: &fakeUsers{users: map[string]User{}, ended: map[string]string{}},
		uis:   &fakeUIs{m: map[string]UI{}}, now: time.Unix(1_800_000_000, 0),
		hits: func() int { mu.Lock(); defer mu.Unlock(); return hits }}
	for _, name := range []string{"node01", "node02"} {
		p, err := webui.New(webui.Config{Name: name, URL: bmc.URL, TLS: webui.TLS{PinSHA256: webui.Fingerprint(bmc.Certificate())},
			GatewayCookies: []string{Cookie}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		o.uis.m[name] = UI{Proxy: p}
	}
	o.users.users["uid"] = User{Caller: service.Caller{Identity: service.Identity{Name: "alice", Source: service.SourceUser}, Door: audit.DoorWeb, Session: "h1"},
		Name: "alice", Expires: o.now.Add(time.Hour)}
	w := &configs.Web{PublicURL: "https://gw.test", ProxyDomain: "bmc.test"}
	log := slog.New(slog.DiscardHandler)
	o.h = New(Options{Config: func() *configs.Web { return w }, Service: o.svc, Users: o.users,
		Front: httpfront.Front{Notes: noter{o.svc}, Log: log}, Logger: log, Now: func() time.Time { return o.now }})
	o.h.SetUIs(o.uis)
	return o
}

// do sends a request to a BMC host (on its main port) with the BMC-host
// cookie v unless it is "", and the headers in hdr.
func (o *hostsOverFakes) do(method, bmc, target, v string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://"+bmc+".bmc.test"+target, nil)
	if v != "" {
		r.AddCookie(&http.Cookie{Name: Cookie, Value: v})
	}
	for k, x := range hdr {
		r.Header.Set(k, x)
	}
	rec := httptest.NewRecorder()
	o.h.ServeHost(rec, r, bmc, 0)
	return rec
}

// enter has the main door issue a ticket for the user session id on bmc
// and redeems it on the BMC host; it returns the answer and the BMC-host
// cookie ("" when none was set).
func (o *hostsOverFakes) enter(t *testing.T, id, issuedFor, at string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	to, err := o.h.Issue(id, issuedFor)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil || u.Host != issuedFor+".bmc.test" || u.Path != enterPath {
		t.Fatalf("ticket URL %q", to)
	}
	rec := o.do(http.MethodGet, at, u.RequestURI(), "", nil)
	for _, c := range rec.Result().Cookies() {
		if c.Name == Cookie {
			return rec, c.Value
		}
	}
	return rec, ""
}

// TestBMCHostOverFakes: a ticket the main door had issued opens a BMC-host
// session on its BMC only, once; the session's requests are checked and
// forwarded without the gateway's cookie, refused ones never reach the
// BMC, and each answer is recorded.
func TestBMCHostOverFakes(t *testing.T) {
	o := newHostsOverFakes(t)
	rec, v := o.enter(t, "uid", "node01", "node01")
	if rec.Code != http.StatusOK || v == "" {
		t.Fatalf("enter: %d %q %s", rec.Code, v, rec.Body)
	}
	if d, recs := o.svc.take(); len(d) != 1 || d[0] != "web.access node01 allowed" || len(recs) != 1 || recs[0].Code != audit.CodeSessionStart {
		t.Fatalf("enter decided %q, recorded %+v", d, recs)
	}
	own := "https://node01.bmc.test"
	o.svc.deny[authz.Action(webui.ActionBMCAccounts)] = true
	for _, tt := range []struct {
		name, method, bmc, target string
		cookie                    bool
		hdr                       map[string]string
		status                    int
		want                      string
		forwarded                 bool
		decided                   string // the one decision made here, "" for none
		code                      string // the one record written, "" for none
	}{
		{name: "read", method: "GET", bmc: "node01", target: "/index.html", cookie: true, status: 200,
			want: "hello from the BMC at /index.html", forwarded: true, code: audit.CodeWebUIRequest},
		{name: "write", method: "POST", bmc: "node01", target: "/form", cookie: true, hdr: map[string]string{"Origin": own}, status: 200,
			forwarded: true, decided: "web.write node01 allowed", code: audit.CodeWebUIRequest},
		{name: "refused action", method: "POST", bmc: "node01", target: "/redfish/v1/AccountService/Accounts", cookie: true,
			hdr: map[string]string{"Origin": own}, status: http.StatusForbidden, want: "bmcgate refused this bmc.accounts",
			decided: "bmc.accounts node01 denied", code: audit.CodeWebUIRequest},
		{name: "no cookie", method: "GET", bmc: "node01", target: "/", status: http.StatusUnauthorized, want: "web UI from the bmcgate dashboard."},
		{name: "another BMC's host", method: "GET", bmc: "node02", target: "/", cookie: true, status: http.StatusUnauthorized},
		{name: "not a BMC", method: "GET", bmc: "", target: "/", cookie: true, status: http.StatusNotFound},
		{name: "reserved path", method: "GET", bmc: "node01", target: "/.bmcgate/other", cookie: true, status: http.StatusNotFound},
		{name: "framed by another site", method: "GET", bmc: "node01", target: "/", cookie: true,
			hdr:    map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},
			status: http.StatusForbidden, code: audit.CodeDecision},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ""
			if tt.cookie {
				c = v
			}
			before := o.hits()
			rec := o.do(tt.method, tt.bmc, tt.target, c, tt.hdr)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("%d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.want)
			}
			if got := rec.Header().Get("X-Frame-Options"); got != "SAMEORIGIN" {
				t.Errorf("X-Frame-Options %q", got)
			}
			if fw := o.hits() > before; fw != tt.forwarded {
				t.Errorf("forwarded to the BMC: %v, want %v", fw, tt.forwarded)
			}
			d, recs := o.svc.take()
			if tt.decided == "" && len(d) != 0 || tt.decided != "" && (len(d) != 1 || d[0] != tt.decided) {
				t.Errorf("decided %q, want %q", d, tt.decided)
			}
			if tt.code == "" && len(recs) != 0 || tt.code != "" && (len(recs) != 1 || recs[0].Code != tt.code) {
				t.Errorf("recorded %+v, want one %q", recs, tt.code)
			}
		})
	}
}

// TestBMCHostTicketRefusals: a ticket is good once, on the BMC it was
// issued for, while its user session lives; each refusal is recorded and
// sets no cookie.
func TestBMCHostTicketRefusals(t *testing.T) {
	o := newHostsOverFakes(t)
	if rec, v := o.enter(t, "uid", "node01", "node02"); rec.Code != http.StatusForbidden || v != "" {
		t.Fatalf("another BMC's ticket: %d %q", rec.Code, v)
	}
	if _, recs := o.svc.take(); len(recs) != 1 || recs[0].Outcome != audit.OutcomeDeny || !strings.Contains(recs[0].Reason, "issued for another BMC") {
		t.Fatalf("records %+v", recs)
	}
	to, _ := o.h.Issue("uid", "node01")
	u, _ := url.Parse(to)
	if rec := o.do(http.MethodGet, "node01", u.RequestURI(), "", nil); rec.Code != http.StatusOK {
		t.Fatalf("first use: %d", rec.Code)
	}
	if rec := o.do(http.MethodGet, "node01", u.RequestURI(), "", nil); rec.Code != http.StatusForbidden {
		t.Fatalf("second use: %d", rec.Code)
	}
	o.svc.take()
	o.users.end("uid", "logged out")
	if rec, v := o.enter(t, "uid", "node01", "node01"); rec.Code != http.StatusUnauthorized || v != "" {
		t.Fatalf("ended user session: %d %q", rec.Code, v)
	}
	if _, err := o.h.Issue("uid", "node_99"); err == nil { // no host label
		t.Fatal("ticket for a BMC that can have no host")
	}
}

// TestBMCHostSessionsEnd: the BMC-host session ends with its user session
// (the main door's EndUser, or the re-check finding it ended) and when web.access
// is withdrawn; each end is recorded and logs out the BMC-side sessions.
func TestBMCHostSessionsEnd(t *testing.T) {
	for _, tt := range []struct {
		name   string
		end    func(o *hostsOverFakes)
		reason string
	}{
		{"logout", func(o *hostsOverFakes) { o.h.EndUser(t.Context(), "uid", "logged out") }, "logged out"},
		{"user session ended", func(o *hostsOverFakes) { o.users.end("uid", "revoked"); o.h.Recheck(t.Context()) }, "the bmcgate session ended: revoked"},
		{"web.access withdrawn", func(o *hostsOverFakes) { o.svc.withdrawn["alice"] = true; o.h.Recheck(t.Context()) }, "web.access withdrawn"},
		{"stopping", func(o *hostsOverFakes) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			o.h.Run(ctx)
		}, "gateway stopping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newHostsOverFakes(t)
			_, v := o.enter(t, "uid", "node01", "node01")
			o.svc.take()
			tt.end(o)
			_, recs := o.svc.take()
			var ended *audit.Record
			for i, r := range recs {
				if r.Code == audit.CodeSessionEnd {
					ended = &recs[i]
				}
			}
			if ended == nil || ended.Reason != "BMC web UI session ended: "+tt.reason || ended.Session != "h1" || ended.Target != "node01" {
				t.Fatalf("records %+v", recs)
			}
			if len(o.uis.released) != 1 || o.uis.released[0] != "h1" {
				t.Errorf("released %q", o.uis.released)
			}
			if rec := o.do(http.MethodGet, "node01", "/", v, nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("after the end: %d", rec.Code)
			}
		})
	}
}

// TestBMCHostReusesAFreshUser: a request on a BMC host reads the user
// session again only when the main door says the last copy is no longer
// fresh.
func TestBMCHostReusesAFreshUser(t *testing.T) {
	o := newHostsOverFakes(t)
	fresh := true
	u := o.users.users["uid"]
	u.Fresh = func() bool { return fresh }
	o.users.users["uid"] = u
	_, v := o.enter(t, "uid", "node01", "node01")
	reads := func() int { o.users.mu.Lock(); defer o.users.mu.Unlock(); return o.users.reads }
	before := reads()
	for range 5 {
		if rec := o.do(http.MethodGet, "node01", "/", v, nil); rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	if n := reads() - before; n != 1 {
		t.Fatalf("5 requests read the user session %d times, want 1", n)
	}
	fresh = false
	o.do(http.MethodGet, "node01", "/", v, nil)
	o.do(http.MethodGet, "node01", "/", v, nil)
	if n := reads() - before; n != 3 {
		t.Fatalf("stale copies: %d reads, want 3", n)
	}
}
