package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/configs"
)

// webUIHarness is a web harness with web.proxy_domain localhost and BMCs
// node01 and node02 whose web UIs are one fake BMC web server.
type webUIHarness struct {
	*webHarness
	fake   *fakeBMCWeb
	port   string
	domain string // web.proxy_domain
}

// startWebUI starts the gateway with BMC web UIs. Role viewer (group
// viewers: vic, audrey) gets web.access and web.write but no power.*;
// group strangers (nobody) gets auditor only: no web.access.
// more, if given, changes the config further.
func startWebUI(t testing.TB, more ...func(*configs.Config)) *webUIHarness {
	t.Helper()
	return startWebUIAt(t, "", "localhost", more...)
}

// startWebUIAt is startWebUI with the gateway's public host (127.0.0.1 when
// "") and the BMC hosts' domain given.
func startWebUIAt(t testing.TB, publicHost, domain string, more ...func(*configs.Config)) *webUIHarness {
	t.Helper()
	fake := startFakeBMCWeb(t, "gw", "pw-node01")
	w := startWeb(t, webOptions{
		publicHost: publicHost,
		extraWeb:   "  proxy_domain: " + domain + "\n",
		moreBMCs:   []testBMC{{name: "node02", addr: "127.0.0.1:1", user: "gw", pass: "pw-node01", suite: 17}},
		mutate: func(c *configs.Config) {
			for i := range c.BMCs {
				c.BMCs[i].WebUI = configs.BMCWeb{URL: fake.srv.URL, Login: "redfish", HostHeader: configs.HostHeaderBMCAddress,
					MaxSessions: 4, IdleTimeout: configs.Duration{Duration: 10 * time.Minute},
					TLS: configs.BMCWebTLS{PinSHA256: fake.pin()}, ResponseHeaders: []string{"X-Fake-BMC"}}
			}
			for i := range c.Roles {
				if c.Roles[i].Name == "viewer" {
					c.Roles[i].Allow = append(c.Roles[i].Allow, configs.Rule{Actions: []string{"web.access", "web.write"}, BMCs: []string{"*"}})
				}
			}
			c.Web.OIDC.GroupRoles["strangers"] = []string{"auditor"}
			for _, m := range more {
				m(c)
			}
		},
	})
	_, port, _ := strings.Cut(strings.TrimPrefix(w.base, "https://"), ":")
	return &webUIHarness{webHarness: w, fake: fake, port: port, domain: domain}
}

// bmcURL is the URL of path on a BMC's web UI host.
func (w *webUIHarness) bmcURL(bmc, path string) string {
	return "https://" + bmc + "." + w.domain + ":" + w.port + path
}

// uiClient is a browser-like client that reaches *.localhost on the
// gateway's port (Go does not resolve *.localhost) and trusts both the
// gateway's and the BMC hosts' certificates.
func (w *webUIHarness) uiClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: w.uiTransport(t)}
}

func (w *webUIHarness) uiTransport(t testing.TB) *http.Transport {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(w.harness.g.cfg.DataDir, "web_proxy_tls_cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := w.pool.Clone()
	pool.AppendCertsFromPEM(pem)
	addr := "127.0.0.1:" + w.port
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if host, _, _ := net.SplitHostPort(a); strings.HasSuffix(host, ".localhost") {
				a = addr
			}
			return d.DialContext(ctx, network, a)
		},
	}
}

// ticketURL logs user in with c, posts the dashboard's "Open web UI" form
// for bmc and returns the redirect (the ticket URL) without following it.
func (w *webUIHarness) ticketURL(t testing.TB, c *http.Client, bmc string) (*http.Response, string) {
	t.Helper()
	_, dash := get(t, c, w.base+"/")
	saved := c.CheckRedirect
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { c.CheckRedirect = saved }()
	resp, body := w.post(t, c, "/bmc/"+bmc+"/webui", url.Values{"csrf": {csrf(t, dash)}}, "")
	if resp.StatusCode != http.StatusSeeOther {
		return resp, body
	}
	return resp, resp.Header.Get("Location")
}

// loginUI logs user in with a fresh client.
func (w *webUIHarness) loginUI(t testing.TB, user, password string) *http.Client {
	t.Helper()
	c := w.uiClient(t)
	resp, _ := w.login(t, c, user, password, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d", user, resp.StatusCode)
	}
	return c
}

// do sends a request with c and returns the response with its body read.
func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}
