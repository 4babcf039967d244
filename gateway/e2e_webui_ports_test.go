package gateway

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/proxy/webui"
	"golang.org/x/net/websocket"
)

// portsHarness is a web UI harness whose node01 is a KVM-style BMC: its UI
// (login: none) on one port, and a websocket echo on a second port (kvmPort,
// standing in for iDRAC's 5900) mapped by web.proxy_ports to pubPort.
// node02 keeps the harness's fake BMC and lists no extra port.
type portsHarness struct {
	*webUIHarness
	ui, kvm    *httptest.Server
	kvmPort    int
	pubPort    string
	kvmOrigins atomic.Value // string: the Origin of the last websocket the KVM port saw
}

// kvmPagePrefix starts node01's page; the script opens the console on the
// BMC's own address and KVM port, which the gateway rewrites.
const kvmPagePrefix = `<!doctype html><title>KVM BMC</title><p id="state">logged in to the BMC</p><p id="ws">waiting</p>
<script>const kvm = "wss://`

const kvmPageSuffix = `/kvm";
const ws = new WebSocket(kvm);
ws.onopen = () => ws.send("ping-5900");
ws.onmessage = (e) => { document.getElementById("ws").textContent = "echo:" + e.data; ws.close(); };
ws.onerror = () => { document.getElementById("ws").textContent = "error"; };
</script>`

func startPorts(t *testing.T) *portsHarness {
	t.Helper()
	p := &portsHarness{}
	kvmMux := http.NewServeMux()
	kvmMux.Handle("/kvm", websocket.Server{
		Handshake: func(c *websocket.Config, r *http.Request) error {
			p.kvmOrigins.Store(r.Header.Get("Origin"))
			return nil
		},
		Handler: func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) },
	})
	kvmMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fake-KVM", "1")
		_, _ = io.WriteString(w, "kvm port "+r.URL.Path)
	})
	p.kvm = httptest.NewTLSServer(kvmMux)
	t.Cleanup(p.kvm.Close)
	p.kvmPort = p.kvm.Listener.Addr().(*net.TCPAddr).Port
	kvmAddr := p.kvm.Listener.Addr().String()
	p.ui = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, kvmPagePrefix+kvmAddr+kvmPageSuffix)
	}))
	t.Cleanup(p.ui.Close)
	listen := freeTCPAddr(t)
	_, p.pubPort, _ = net.SplitHostPort(listen)
	pub, _ := strconv.Atoi(p.pubPort)
	p.webUIHarness = startWebUI(t, func(c *configs.Config) {
		c.Web.ProxyPorts = []configs.ProxyPort{{BMCPort: p.kvmPort, Listen: listen, PublicPort: pub}}
		w := &c.BMCs[0].WebUI
		w.URL, w.Login, w.RewriteBody = p.ui.URL, configs.WebLoginNone, true
		w.ExtraPorts = []int{p.kvmPort}
		w.TLS = configs.BMCWebTLS{PinSHA256: webui.Fingerprint(p.ui.Certificate())}
	})
	return p
}

// portURL is the URL of path on a BMC host's extra public port.
func (p *portsHarness) portURL(bmc, path string) string {
	return "https://" + bmc + ".localhost:" + p.pubPort + path
}

// client is a browser-like client (one cookie jar for every port, as
// browsers scope cookies to hosts) that reaches *.localhost:PORT on
// 127.0.0.1:PORT.
func (p *portsHarness) client(t *testing.T) *http.Client {
	t.Helper()
	tr := p.uiTransport(t)
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if host, port, _ := net.SplitHostPort(a); strings.HasSuffix(host, ".localhost") {
			a = "127.0.0.1:" + port
		}
		return d.DialContext(ctx, network, a)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: tr}
}

// loginEnter logs user in and enters node01's UI on its main BMC host; it
// returns the client and node01's host cookie ("name=value").
func (p *portsHarness) loginEnter(t *testing.T, user, password string) (*http.Client, string) {
	t.Helper()
	c := p.client(t)
	if resp, _ := p.login(t, c, user, password, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d", user, resp.StatusCode)
	}
	p.enter(t, c, "node01")
	return c, "__Host-bmcgate-bmc=" + p.hostCookie(t, c, "node01")
}

// get sends a GET with only the given cookie (no jar).
func (p *portsHarness) get(t *testing.T, u, cookie string) (*http.Response, string) {
	t.Helper()
	c := p.client(t)
	c.Jar = nil
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return do(t, c, req)
}

// dial opens a websocket to url over TLS to 127.0.0.1:port with SNI host.
func dialWS(t *testing.T, host, port, u, origin, cookie string) (*websocket.Conn, error) {
	t.Helper()
	cfg, err := websocket.NewConfig(u, origin)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		cfg.Header = http.Header{"Cookie": {cookie}}
	}
	conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{ServerName: host, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // test client; the server is ours
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewClient(cfg, conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return ws, nil
}

// TestWebUIPortWebsocket: after the ticket hand-off on the main BMC host,
// the same cookie opens the KVM websocket on the extra port; both ends of
// it are in the audit log under the user, with the public host:port.
func TestWebUIPortWebsocket(t *testing.T) {
	p := startPorts(t)
	_, hc := p.loginEnter(t, "vic", "vic-password-1")
	pubHost := "node01.localhost:" + p.pubPort
	ws, err := dialWS(t, "node01.localhost", p.pubPort, "wss://"+pubHost+"/kvm", p.bmcURL("node01", ""), hc)
	if err != nil {
		t.Fatalf("websocket on the extra port: %v", err)
	}
	if err := websocket.Message.Send(ws, "ping-5900"); err != nil {
		t.Fatal(err)
	}
	var echo string
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := websocket.Message.Receive(ws, &echo); err != nil || echo != "ping-5900" {
		t.Fatalf("echo %q, %v", echo, err)
	}
	onHost := func(r audit.Record) bool { return r.Fields["host"] == pubHost && r.Target == "node01" }
	p.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSOpen, Actor: "vic"}, onHost)
	_ = ws.Close()
	p.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSClose, Actor: "vic"}, onHost)
	if o, _ := p.kvmOrigins.Load().(string); o != "https://"+p.ui.Listener.Addr().String() {
		t.Errorf("the KVM port saw Origin %q, want the BMC UI's own origin", o)
	}

	// A page of the BMC's UI from another origin than the BMC host's may
	// not open it.
	if _, err := dialWS(t, "node01.localhost", p.pubPort, "wss://"+pubHost+"/kvm", "https://evil.example", hc); err == nil {
		t.Error("cross-origin websocket accepted on the extra port")
	}
}

// TestWebUIPortRefusals: the extra port serves BMC hosts with their own
// cookie only, only for BMCs that list the port, and never the gateway.
func TestWebUIPortRefusals(t *testing.T) {
	p := startPorts(t)
	alice, hc := p.loginEnter(t, "alice", "alice-password-1")
	p.enter(t, alice, "node02")
	hc2 := "__Host-bmcgate-bmc=" + p.hostCookie(t, alice, "node02")

	if resp, body := p.get(t, p.portURL("node01", "/status"), hc); resp.StatusCode != http.StatusOK || body != "kvm port /status" {
		t.Fatalf("own cookie on the extra port: %d %q", resp.StatusCode, body)
	} else if resp.ProtoMajor != 1 {
		t.Errorf("extra port spoke %s, want HTTP/1.1 only", resp.Proto)
	}
	for _, tc := range []struct {
		name, url, cookie string
		want              int
	}{
		{"no cookie", p.portURL("node01", "/"), "", http.StatusUnauthorized},
		{"another BMC's cookie", p.portURL("node01", "/"), hc2, http.StatusUnauthorized},
		{"main session cookie", p.portURL("node01", "/"), mainCookie(t, alice, p.base), http.StatusUnauthorized},
		{"BMC without the port", p.portURL("node02", "/"), hc2, http.StatusNotFound},
		{"unknown BMC", p.portURL("node99", "/"), hc, http.StatusNotFound},
		{"ticket path", p.portURL("node01", "/.bmcgate/enter?ticket=x"), hc, http.StatusNotFound},
	} {
		resp, body := p.get(t, tc.url, tc.cookie)
		if resp.StatusCode != tc.want || resp.Header.Get("X-Fake-KVM") != "" && tc.want != http.StatusOK {
			t.Errorf("%s: %d, want %d (%.120s)", tc.name, resp.StatusCode, tc.want, body)
		}
		if strings.Contains(body, "alice") || strings.Contains(body, "dashboard</title>") {
			t.Errorf("%s: gateway page served on the extra port: %.200s", tc.name, body)
		}
	}
	// The extra port answers BMC hosts on its own public port only, each on a
	// connection made for it: the gateway's own host, another port, another
	// BMC's name or an absolute URI are misdirected.
	for _, tc := range []struct {
		sni, host, target string
		want              int
	}{
		{"", "127.0.0.1:" + p.pubPort, "/api/v1/whoami", http.StatusMisdirectedRequest},
		{"localhost", "localhost:" + p.pubPort, "/login", http.StatusMisdirectedRequest},
		{"localhost", "localhost", "/.bmcgate/enter", http.StatusMisdirectedRequest},
		{"node01.localhost", "node02.localhost:" + p.pubPort, "/", http.StatusMisdirectedRequest},
		{"node01.localhost", "127.0.0.1:" + p.pubPort, "/", http.StatusMisdirectedRequest},
		{"node01.localhost", "node01.localhost:" + p.port, "/", http.StatusMisdirectedRequest},
		{"node01.localhost", "node01.localhost", "/", http.StatusMisdirectedRequest},
		{"node01.localhost", "node01.localhost:" + p.pubPort, "https://127.0.0.1:" + p.port + "/api/v1/whoami", http.StatusMisdirectedRequest},
		{"node01.localhost", "node01.localhost:" + p.pubPort, "/%2e%2e/%2e%2e/api/v1/whoami", http.StatusBadRequest},
	} {
		if got, body := p.rawPort(t, tc.sni, tc.host, tc.target, hc); got != tc.want || strings.Contains(body, "alice") {
			t.Errorf("SNI %s Host %s %s: %d, want %d (%.120s)", tc.sni, tc.host, tc.target, got, tc.want, body)
		}
	}
	// Refusals of the host session are audited like on the main port.
	p.waitRecord(t, audit.Query{Code: audit.CodeWebUIRequest, Actor: "alice", Target: "node01"}, func(r audit.Record) bool {
		return r.Fields["host"] == "node01.localhost:"+p.pubPort && r.Fields["path"] == "/status"
	})
}

// TestWebUIPortRewrite: the BMC page's wss://<bmc-ip>:<kvm port>/ URL is
// rewritten to the extra public host:port.
func TestWebUIPortRewrite(t *testing.T) {
	p := startPorts(t)
	_, hc := p.loginEnter(t, "vic", "vic-password-1")
	resp, body := p.get(t, p.bmcURL("node01", "/"), hc)
	want := `"wss://node01.localhost:` + p.pubPort + `/kvm"`
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, p.kvm.Listener.Addr().String()) {
		t.Fatalf("page %d, want %s in:\n%s", resp.StatusCode, want, body)
	}
}

// mainCookie is the gateway's main session cookie c holds ("name=value").
func mainCookie(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	u, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	for _, ck := range c.Jar.Cookies(u.URL) {
		if ck.Name == "__Host-bmcgate" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no main session cookie")
	return ""
}

// rawPort is raw (e2e_webui_attack_test.go) on the extra port.
func (p *portsHarness) rawPort(t *testing.T, sni, host, target, cookie string) (int, string) {
	t.Helper()
	saved := p.port
	p.port = p.pubPort
	defer func() { p.port = saved }()
	return p.raw(t, sni, host, target, cookie)
}
