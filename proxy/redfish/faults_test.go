package redfish

import (
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

const resetPath = "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset"
const systemPath = "/redfish/v1/Systems/437XR1138R2"

// fault wraps the simulator's handler: when match says so for a request,
// do answers it instead.
func fault(match func(*http.Request) bool, do func(http.ResponseWriter, *http.Request, http.Handler)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				do(w, r, h)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func getSystem(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.Path == systemPath }

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func TestWrongPassword(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, logs := newBroker(t, Options{})
	ep := s.ep
	ep.Password = "not-the-Password-42"
	_, err := b.PowerStatus(t.Context(), ep)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "rejected the user name or password") {
		t.Fatalf("wrong password: %v", err)
	}
	if _, failed := s.rf.Logins(); failed != 1 {
		t.Errorf("%d failed logins, want 1", failed)
	}
	noSecrets(t, []string{err.Error(), logs.String()}, "not-the-Password-42", simPass)
}

// TestExpiredTokenRead: a read whose token the BMC forgot logs in again and
// is repeated once.
func TestExpiredTokenRead(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, logs := newBroker(t, Options{})
	ctx := t.Context()
	if _, err := b.PowerStatus(ctx, s.ep); err != nil {
		t.Fatal(err)
	}
	s.rf.ExpireSessions()
	if st, err := b.PowerStatus(ctx, s.ep); err != nil || st != PowerStateOn {
		t.Fatalf("after expiry: %v %v", st, err)
	}
	if st := b.Stats(); st.Logins != 2 || st.Relogins != 1 {
		t.Errorf("stats %+v: want 2 logins, 1 relogin", st)
	}
	noSecrets(t, []string{logs.String()}, simPass)
}

// TestExpiredTokenWrite: a write refused with 401 was not carried out (the
// service authenticates first), so it is sent once more on a fresh
// session and carried out exactly once; a BMC that refuses the fresh
// session too gets no third try and the caller is told nothing was done.
// A session unused for a while is checked before a write, so the write is
// not the request that finds it expired.
func TestExpiredTokenWrite(t *testing.T) {
	var rf *bmcsim.Redfish
	var expireOnReset atomic.Int32 // resets that find their token expired
	s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(func(r *http.Request) bool { return isReset(r) && expireOnReset.Load() > 0 },
		func(w http.ResponseWriter, r *http.Request, h http.Handler) {
			expireOnReset.Add(-1)
			rf.ExpireSessions() // the token expires between the read and the write
			h.ServeHTTP(w, r)
		})})
	rf = s.rf
	b, logs := newBroker(t, Options{})
	ctx := t.Context()
	if _, err := b.PowerStatus(ctx, s.ep); err != nil {
		t.Fatal(err)
	}
	// Fresh session refused on the write itself: log in, send it again.
	expireOnReset.Store(1)
	if _, err := b.Power(ctx, s.ep, PowerOff); err != nil {
		t.Fatalf("write on an expired token: %v", err)
	}
	if r := s.rf.Resets(); strings.Join(r, ",") != "ForceOff" || s.bmc.Power() {
		t.Fatalf("resets %v, power %v: the write must run exactly once", r, s.bmc.Power())
	}
	if st := b.Stats(); st.Relogins != 1 {
		t.Errorf("stats %+v: want 1 relogin", st)
	}
	// Refused twice: no third try, nothing done.
	expireOnReset.Store(2)
	_, err := b.Power(ctx, s.ep, PowerOn)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "nothing was done") {
		t.Fatalf("write refused twice: %v", err)
	}
	if r := s.rf.Resets(); len(r) != 1 || s.bmc.Power() {
		t.Fatalf("resets %v, power %v after two refusals", r, s.bmc.Power())
	}
	// Stale session: probed first, replaced, the write sent once.
	if _, err := b.PowerStatus(ctx, s.ep); err != nil {
		t.Fatal(err)
	}
	ageSession(b, "node01", 2*probeAfter)
	s.rf.ExpireSessions()
	if _, err := b.Power(ctx, s.ep, PowerOn); err != nil {
		t.Fatalf("write after a probe: %v", err)
	}
	if r := s.rf.Resets(); strings.Join(r, ",") != "ForceOff,On" || !s.bmc.Power() {
		t.Errorf("resets %v, power %v", r, s.bmc.Power())
	}
	noSecrets(t, []string{err.Error(), logs.String()}, simPass)
}

// ageSession makes a BMC's session look unused for d.
func ageSession(b *Broker, name string, d time.Duration) {
	b.mu.Lock()
	m := b.bmcs[name]
	b.mu.Unlock()
	m.mu.Lock()
	m.sess.lastOK = m.sess.lastOK.Add(-d)
	m.mu.Unlock()
}

// TestLostWriteAnswer: a reset the BMC carried out but whose answer was
// lost is reported as outcome unknown and not sent again.
func TestLostWriteAnswer(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(
		func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == resetPath },
		func(w http.ResponseWriter, r *http.Request, h http.Handler) {
			h.ServeHTTP(httptest.NewRecorder(), r) // the BMC acts…
			hangUp(w)                              // …and the answer is lost
		})})
	b, _ := newBroker(t, Options{})
	_, err := b.Power(t.Context(), s.ep, PowerReset)
	if !errors.Is(err, ErrUnknownOutcome) || !strings.Contains(err.Error(), "outcome is unknown") {
		t.Fatalf("lost answer: %v", err)
	}
	if r := s.rf.Resets(); strings.Join(r, ",") != "ForceRestart" {
		t.Errorf("resets received %v, want exactly one", r)
	}
}

// TestBadAnswers: 503, 500, garbage, huge and mistyped bodies, redirects
// and links to other hosts are clear errors.
func TestBadAnswers(t *testing.T) {
	huge := strings.Repeat(" ", 256<<10)
	tests := []struct {
		name  string
		match func(*http.Request) bool
		do    func(http.ResponseWriter, *http.Request, http.Handler)
		op    func(*Broker, Endpoint) error
		want  error
		text  string
	}{
		{"503", getSystem, answer(503, `{"error":{"message":"busy"}}`), powerStatus, ErrBusy, "busy (503)"},
		{"500 on a read", getSystem, answer(500, ""), powerStatus, ErrBMC, "failed to answer (500)"},
		{"500 on a write", isReset, answer(500, ""), powerOff, ErrUnknownOutcome, "outcome is unknown"},
		{"garbage", getSystem, answer(200, "<html>not json"), powerStatus, ErrBMC, "could not be understood"},
		{"trailing data", getSystem, answer(200, `{"PowerState":"On"} {}`), powerStatus, ErrBMC, "could not be understood"},
		{"wrong type", getSystem, answer(200, `{"PowerState":5}`), powerStatus, ErrBMC, "could not be understood"},
		{"huge body", getSystem, answer(200, `{"PowerState":"On"`+huge+`}`), powerStatus, ErrBMC, "larger than the limit"},
		{"empty body", getSystem, answer(200, ""), powerStatus, ErrBMC, "could not be understood"},
		{"redirect", getSystem, redirect, powerStatus, ErrBMC, "redirected"},
		{"hang up on a read", getSystem, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) { hangUp(w) }, powerStatus, ErrUnreachable, "no answer"},
		{"link to another host", isSystems, answer(200, `{"Members":[{"@odata.id":"https://192.0.2.1/redfish/v1/Systems/x"}]}`), powerStatus, ErrBMC, "another host"},
		{"link outside /redfish/v1", isSystems, answer(200, `{"Members":[{"@odata.id":"/admin/x"}]}`), powerStatus, ErrBMC, "outside /redfish/v1"},
		{"login without a token", isLogin, answer(201, `{}`), powerStatus, ErrBMC, "no usable X-Auth-Token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(tc.match, tc.do)})
			b, logs := newBroker(t, Options{MaxBody: 128 << 10})
			err := tc.op(b, s.ep)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v containing %q", err, tc.want, tc.text)
			}
			noSecrets(t, []string{err.Error(), logs.String()}, simPass)
		})
	}
}

func answer(code int, body string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func redirect(w http.ResponseWriter, r *http.Request, _ http.Handler) {
	http.Redirect(w, r, "https://192.0.2.1/redfish/v1/Systems/x", http.StatusFound)
}

func isReset(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == resetPath }
func isSystems(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == "/redfish/v1/Systems"
}
func isLogin(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/redfish/v1/SessionService/Sessions"
}

func powerStatus(b *Broker, ep Endpoint) error {
	_, err := b.PowerStatus(testCtx, ep)
	return err
}

func powerOff(b *Broker, ep Endpoint) error {
	_, err := b.Power(testCtx, ep, PowerOff)
	return err
}

// TestTLSVerification: the pin, a CA bundle and the opt-out, as for the
// web proxy.
func TestTLSVerification(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	other := startSim(t, bmcsim.RedfishOptions{})
	roots := x509.NewCertPool()
	roots.AddCert(s.rf.Certificate())
	tests := []struct {
		name string
		tls  bmctls.Verify
		want error
	}{
		{"pin", bmctls.Verify{PinSHA256: bmctls.Fingerprint(s.rf.Certificate())}, nil},
		{"pin of another BMC", bmctls.Verify{PinSHA256: bmctls.Fingerprint(other.rf.Certificate())}, ErrInsecure},
		{"CA bundle", bmctls.Verify{Roots: roots}, nil},
		{"CA bundle, wrong name", bmctls.Verify{Roots: roots, ServerName: "bmc.invalid"}, ErrInsecure},
		{"CA bundle without the issuer", bmctls.Verify{Roots: x509.NewCertPool()}, ErrInsecure},
		{"opt-out", bmctls.Verify{InsecureSkipVerifyDangerous: true}, nil},
		{"nothing chosen", bmctls.Verify{}, ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := newBroker(t, Options{})
			ep := s.ep
			ep.TLS = tc.tls
			before, _ := s.rf.Logins()
			_, err := b.PowerStatus(t.Context(), ep)
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want == ErrInsecure {
				if ok, _ := s.rf.Logins(); ok != before {
					t.Errorf("logged in to a BMC whose certificate failed")
				}
			}
		})
	}
}

// TestConcurrencyBound: with one operation per BMC in flight and one
// waiter allowed, a third caller is refused at once.
func TestConcurrencyBound(t *testing.T) {
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	var once sync.Once
	s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(getSystem, func(w http.ResponseWriter, r *http.Request, h http.Handler) {
		entered <- struct{}{}
		<-release
		h.ServeHTTP(w, r)
	})})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	b, _ := newBroker(t, Options{MaxConcurrent: 1, MaxPending: 1})
	errs := make(chan error, 3)
	go func() { errs <- powerStatus(b, s.ep) }()
	<-entered // the first holds the only slot, inside the BMC
	go func() { errs <- powerStatus(b, s.ep) }()
	go func() { errs <- powerStatus(b, s.ep) }()
	if err := <-errs; !errors.Is(err, ErrBusy) {
		t.Fatalf("first answer while one runs and one waits: %v, want ErrBusy", err)
	}
	once.Do(func() { close(release) })
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("waiting caller: %v", err)
		}
	}
}

// TestTimeouts: a BMC that accepts but never answers fails reads with a
// timeout and writes with an unknown outcome.
func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	var stalled atomic.Value // the method that gets no answer
	stalled.Store("")
	s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(func(r *http.Request) bool {
		return stalled.Load() == r.Method && r.URL.Path != "/redfish/v1/SessionService/Sessions"
	},
		func(w http.ResponseWriter, r *http.Request, h http.Handler) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	// Generous enough for a loaded machine under -race; each stalled call
	// waits for all of it.
	b, _ := newBroker(t, Options{CallTimeout: 3 * time.Second})
	if err := powerStatus(b, s.ep); err != nil {
		t.Fatal(err)
	}
	stalled.Store(http.MethodGet)
	if err := powerStatus(b, s.ep); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "in time") {
		t.Errorf("stalled read: %v", err)
	}
	stalled.Store(http.MethodPost)
	ageSession(b, "node01", -time.Hour) // no probe before the write
	if err := powerOff(b, s.ep); !errors.Is(err, ErrUnknownOutcome) {
		t.Errorf("stalled write: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b, _ := newBroker(t, Options{})
	ep := Endpoint{Name: "gone", URL: "https://" + addr, Username: "u", Password: "p", TLS: bmctls.Verify{InsecureSkipVerifyDangerous: true}}
	if err := powerStatus(b, ep); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "refused the connection") {
		t.Errorf("closed port: %v", err)
	}
	for _, u := range []string{"http://" + addr, "https://" + addr + "/redfish", "https://u:p@" + addr} {
		ep.URL = u
		if err := powerStatus(b, ep); !errors.Is(err, ErrConfig) {
			t.Errorf("URL %s: %v", u, err)
		}
	}
}

// TestBasicFallback: a service without sessions is used with Basic auth.
func TestBasicFallback(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{Wrap: fault(isLogin, answer(405, ""))})
	b, _ := newBroker(t, Options{})
	if st, err := b.PowerStatus(t.Context(), s.ep); err != nil || st != PowerStateOn {
		t.Fatalf("basic: %v %v", st, err)
	}
	if _, err := b.Power(t.Context(), s.ep, PowerOff); err != nil || s.bmc.Power() {
		t.Fatalf("basic write: %v", err)
	}
	if ok, _ := s.rf.Logins(); ok != 0 {
		t.Errorf("%d session logins on a service without sessions", ok)
	}
	ep := s.ep
	ep.Password = "wrong-pw-xyz"
	b2, logs := newBroker(t, Options{})
	if err := powerStatus(b2, ep); !errors.Is(err, ErrAuth) {
		t.Errorf("basic, wrong password: %v", err)
	}
	noSecrets(t, []string{logs.String()}, "wrong-pw-xyz", simPass)
}

// TestDiscovery: a configured id that the BMC lacks is named with what it
// has.
func TestDiscovery(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, _ := newBroker(t, Options{})
	ep := s.ep
	ep.SystemID = "System.Embedded.1"
	err := powerStatus(b, ep)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `no system "System.Embedded.1"; it has: 437XR1138R2`) {
		t.Errorf("wrong system id: %v", err)
	}
	ep.SystemID, ep.ChassisID = "", "nope/../x"
	if err := powerStatus(b, ep); !errors.Is(err, ErrConfig) {
		t.Errorf("id with a slash: %v", err)
	}
}

func TestResolve(t *testing.T) {
	ep := Endpoint{Name: "n", URL: "https://10.0.0.5", Username: "u", TLS: bmctls.Verify{InsecureSkipVerifyDangerous: true}}
	tg, err := ep.check()
	if err != nil {
		t.Fatal(err)
	}
	m := newBMC(ep, tg, "", &Options{}, &counters{})
	for ref, want := range map[string]string{
		"/redfish/v1/Systems/1":                     "/redfish/v1/Systems/1",
		"https://10.0.0.5/redfish/v1/Systems/1":     "/redfish/v1/Systems/1",
		"https://10.0.0.5:443/redfish/v1/Systems/1": "/redfish/v1/Systems/1",
		"/redfish/v1/Chassis/1U/Thermal#/Fans/0":    "/redfish/v1/Chassis/1U/Thermal",
		"/redfish/v1/X?$skip=2":                     "/redfish/v1/X?$skip=2",
		"https://10.0.0.6/redfish/v1/Systems/1":     "",
		"https://10.0.0.5:8443/redfish/v1/":         "",
		"http://10.0.0.5/redfish/v1/":               "",
		"//evil.example/redfish/v1/":                "",
		"/redfish/v1/../../etc":                     "",
		"/redfish/v2/x":                             "",
		"":                                          "",
	} {
		got, err := m.resolve(ref)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("resolve(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
}

// TestSingleLogin: callers arriving together share one login.
func TestSingleLogin(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{})
	b, logs := newBroker(t, Options{MaxConcurrent: 4})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := powerStatus(b, s.ep); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok, _ := s.rf.Logins(); ok != 1 {
		t.Errorf("%d logins for concurrent first calls, want 1", ok)
	}
	b.mu.Lock()
	m := b.bmcs["node01"]
	b.mu.Unlock()
	m.mu.Lock()
	token := m.sess.token
	m.mu.Unlock()
	noSecrets(t, []string{logs.String()}, token, simPass)
}

// TestSessionLimit: a BMC out of sessions answers the login with 503,
// reported as busy.
func TestSessionLimit(t *testing.T) {
	s := startSim(t, bmcsim.RedfishOptions{MaxSessions: 1})
	first, _ := newBroker(t, Options{})
	if err := powerStatus(first, s.ep); err != nil {
		t.Fatal(err)
	}
	second, _ := newBroker(t, Options{})
	if err := powerStatus(second, s.ep); !errors.Is(err, ErrBusy) {
		t.Errorf("login with no free session: %v", err)
	}
}
