package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/oidcop"
)

// webHarness is a gateway with the web door on, an OpenID provider and a
// simulated BMC.
type webHarness struct {
	*harness
	base   string // https://127.0.0.1:PORT
	op     *oidcop.Provider
	issuer string
	bmc    *bmcsim.BMC
	pool   *x509.CertPool
}

// OP test users: their passwords and groups.
var webUsers = []oidcop.User{
	{ID: "u-alice", Username: "alice", Password: "alice-password-1", Groups: []string{"ops"}},
	{ID: "u-vic", Username: "vic", Password: "vic-password-1", Groups: []string{"viewers"}},
	{ID: "u-nobody", Username: "nobody", Password: "nobody-password-1", Groups: []string{"strangers"}},
	{ID: "u-aud", Username: "audrey", Password: "audrey-password-1", Groups: []string{"viewers", "auditors"}},
}

// webOptions tune startWeb.
type webOptions struct {
	issuer     string // use this issuer instead of starting a real provider
	breakGlass string // YAML list items under web.break_glass
	extraWeb   string // more YAML under web: (right after web.oidc.group_roles)
	mutate     func(*configs.Config)
	moreBMCs   []testBMC // besides node01
	moreConfig string    // YAML continuing the bmcs list (Redfish BMCs) and top-level sections before web:
	publicHost string    // public_url host instead of 127.0.0.1 (on the same port)
	noSSHUsers bool      // no SSH users at all (a web-only deployment)
	op         oidcop.Options
	extraTop   string // more top-level YAML (after web:)
}

// startWeb starts a provider, a simulated BMC and a gateway with the web door.
func startWeb(t testing.TB, o webOptions) *webHarness {
	t.Helper()
	httpsAddr := freeTCPAddr(t)
	base := "https://" + httpsAddr
	if o.publicHost != "" {
		_, port, _ := net.SplitHostPort(httpsAddr)
		base = "https://" + net.JoinHostPort(o.publicHost, port)
	}
	w := &webHarness{base: base}
	w.issuer = o.issuer
	if w.issuer == "" {
		w.op = oidcop.StartWith(t, "bmcgate", "client-secret-1", []string{base + "/auth/callback"}, webUsers, o.op)
		w.issuer = w.op.Issuer
	}
	b, err := bmcsim.Start(t.Context(), "node01", bmcsim.Options{Username: "gw", Password: "pw-node01", PowerOn: true, Sensors: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	w.bmc = b
	dir := t.TempDir()
	secret := filepath.Join(dir, "client_secret")
	if err := os.WriteFile(secret, []byte("client-secret-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := o.moreConfig + fmt.Sprintf(`web:
  public_url: %q
  oidc:
    issuer: %q
    client_id: bmcgate
    client_secret_file: %q
    group_roles:
      ops: [admin]
      viewers: [viewer]
      auditors: [auditor]
%s`, base, w.issuer, secret, o.extraWeb)
	if o.breakGlass != "" {
		extra += "  break_glass:\n" + o.breakGlass
	}
	extra += o.extraTop
	bmcs := append([]testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw-node01", suite: 17, labels: "{rack: r1}"}}, o.moreBMCs...)
	users := []testUser{{name: "alice", roles: "[admin]"}}
	if o.noSSHUsers {
		users = nil
	}
	w.harness = startHarnessAt(t, bmcs, users, extra, httpsAddr, func(c *configs.Config) {
		c.Listen.HTTPS = httpsAddr
		if o.mutate != nil {
			o.mutate(c)
		}
	})
	pem, err := os.ReadFile(filepath.Join(w.harness.g.cfg.DataDir, "web_tls_cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	w.pool = x509.NewCertPool()
	w.pool.AppendCertsFromPEM(pem)
	return w
}

// client returns a browser-like HTTP client with its own cookie jar that
// trusts the gateway's self-signed certificate.
func (w *webHarness) client(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.pool}, ForceAttemptHTTP2: true}}
}

// clientFrom is client with connections from the loopback address local
// (127.0.0.2, ...): another source to the gateway.
func (w *webHarness) clientFrom(t testing.TB, local string) *http.Client {
	t.Helper()
	c := w.client(t)
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c.Transport.(*http.Transport).DialContext = d.DialContext
	return c
}

var opRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// login runs the whole code flow with c: bmcgate → provider login page →
// form post → callback. It returns the final response (body read).
func (w *webHarness) login(t testing.TB, c *http.Client, user, password, ret string) (*http.Response, string) {
	t.Helper()
	resp, body := get(t, c, w.base+"/auth/login?return="+url.QueryEscape(ret))
	m := opRequestID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no provider login form (status %d at %s): %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, err := c.PostForm(w.issuer+"/login/username", url.Values{"id": {m[1]}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func get(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// post sends a form as a same-origin browser would (with Origin) unless
// origin is "-" (none) or another value.
func (w *webHarness) post(t testing.TB, c *http.Client, path string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch origin {
	case "":
		req.Header.Set("Origin", w.base)
	case "-":
	default:
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page.
func csrf(t testing.TB, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page: %.300s", body)
	}
	return m[1]
}

// webTestClock is a clock for the web door that moves only when the test
// says so.
type webTestClock struct {
	mu         sync.Mutex
	start, now time.Time
}

func (c *webTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *webTestClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *webTestClock) since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}

// stepWebClock gives the web doors of gateways opened from now on in this
// test a clock of its own, starting at the current time.
func stepWebClock(t testing.TB) *webTestClock {
	t.Helper()
	now := time.Now()
	c := &webTestClock{start: now, now: now}
	webClock = c.Now
	t.Cleanup(func() { webClock = nil })
	return c
}
