package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
)

// enter redeems a ticket URL with c and returns the final response.
func (w *webUIHarness) enter(t *testing.T, c *http.Client, bmc string) {
	t.Helper()
	_, loc := w.ticketURL(t, c, bmc)
	resp, body := get(t, c, loc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `http-equiv="refresh" content="0;url=/"`) {
		t.Fatalf("enter %s: %d %.200s", bmc, resp.StatusCode, body)
	}
	resp, body = get(t, c, w.bmcURL(bmc, "/"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "logged in to the BMC") {
		t.Fatalf("enter %s: %d %.200s", bmc, resp.StatusCode, body)
	}
}

// hostCookie is the BMC-host cookie c holds for bmc.
func (w *webUIHarness) hostCookie(t *testing.T, c *http.Client, bmc string) string {
	t.Helper()
	u, _ := http.NewRequest(http.MethodGet, w.bmcURL(bmc, "/"), nil)
	for _, ck := range c.Jar.Cookies(u.URL) {
		if ck.Name == "__Host-bmcgate-bmc" {
			return ck.Value
		}
	}
	t.Fatalf("no BMC host cookie for %s", bmc)
	return ""
}

// bare sends a GET to url with only the given cookie, from a client
// without a jar.
func (w *webUIHarness) bare(t *testing.T, u, cookie string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Transport: w.uiTransport(t), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return do(t, c, req)
}

func TestWebUIAttacks(t *testing.T) {
	w := startWebUI(t)
	alice := w.loginUI(t, "alice", "alice-password-1")

	t.Run("ticket replay", func(t *testing.T) {
		_, loc := w.ticketURL(t, alice, "node01")
		if resp, _ := w.bare(t, loc, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use: %d", resp.StatusCode)
		}
		if resp, _ := w.bare(t, loc, ""); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("replay: %d", resp.StatusCode)
		}
	})
	t.Run("ticket of A on host B", func(t *testing.T) {
		_, loc := w.ticketURL(t, alice, "node01")
		other := strings.Replace(loc, "node01.localhost", "node02.localhost", 1)
		if resp, _ := w.bare(t, other, ""); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("ticket of node01 on node02: %d", resp.StatusCode)
		}
		// It is spent even so.
		if resp, _ := w.bare(t, loc, ""); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("ticket reused on its own host after a wrong-host try: %d", resp.StatusCode)
		}
		w.waitRecord(t, audit.Query{Code: audit.CodeDecision, Target: "node02", Outcome: audit.OutcomeDeny}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "another BMC")
		})
	})
	w.enter(t, alice, "node01")
	hc := "__Host-bmcgate-bmc=" + w.hostCookie(t, alice, "node01")
	t.Run("host cookie of A on B", func(t *testing.T) {
		if resp, _ := w.bare(t, w.bmcURL("node01", "/"), hc); resp.StatusCode != http.StatusOK {
			t.Fatalf("own host: %d", resp.StatusCode)
		}
		if resp, _ := w.bare(t, w.bmcURL("node02", "/"), hc); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("node01's cookie on node02: %d", resp.StatusCode)
		}
	})
	t.Run("main cookie on a BMC host", func(t *testing.T) {
		u, _ := http.NewRequest(http.MethodGet, w.base+"/", nil)
		var main string
		for _, ck := range alice.Jar.Cookies(u.URL) {
			if ck.Name == "__Host-bmcgate" {
				main = ck.Name + "=" + ck.Value
			}
		}
		if main == "" {
			t.Fatal("no main session cookie")
		}
		if resp, _ := w.bare(t, w.bmcURL("node01", "/"), main); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("main cookie on node01: %d", resp.StatusCode)
		}
	})
	t.Run("gateway pages not on a BMC host", func(t *testing.T) {
		for _, p := range []string{"/login", "/static/app.js", "/api/v1/whoami", "/audit", "/tokens", "/auth/callback", "/bmc/node01"} {
			resp, body := w.bare(t, w.bmcURL("node01", p), hc)
			if resp.Header.Get("X-Fake-BMC") != "1" || strings.Contains(body, "bmcgate") {
				t.Errorf("%s on a BMC host: %d %q (not answered by the BMC)", p, resp.StatusCode, body)
			}
			resp, _ = w.bare(t, w.bmcURL("node01", p), "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s on a BMC host without a session: %d", p, resp.StatusCode)
			}
		}
		resp, _ := w.bare(t, w.bmcURL("node01", "/.bmcgate/other"), hc)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("reserved path: %d", resp.StatusCode)
		}
	})
	t.Run("host tricks", func(t *testing.T) {
		for _, tc := range []struct {
			sni, host, target string
			want              int
		}{
			{"node01.localhost", "node01.localhost:" + w.port, "/", http.StatusOK},
			{"node01.localhost", "NODE01.LOCALHOST:" + w.port, "/", http.StatusOK},
			{"node01.localhost", "node01.localhost", "/", http.StatusMisdirectedRequest}, // port 443 is not this listener's
			{"node01.localhost", "node01.localhost:9999", "/", http.StatusMisdirectedRequest},
			{"node01.localhost", "node02.localhost:" + w.port, "/", http.StatusMisdirectedRequest},
			{"node01.localhost", "127.0.0.1:" + w.port, "/", http.StatusMisdirectedRequest},
			{"node01.localhost", "node01.localhost:" + w.port, "https://127.0.0.1:" + w.port + "/api/v1/whoami", http.StatusMisdirectedRequest},
			{"localhost", "node01.localhost:" + w.port, "/", http.StatusMisdirectedRequest},
			{"", "node01.localhost:" + w.port, "/", http.StatusMisdirectedRequest},
			{"", "localhost:" + w.port, "/", http.StatusMisdirectedRequest},
			{"node99.localhost", "node99.localhost:" + w.port, "/", http.StatusNotFound},
			{"a.node01.localhost", "a.node01.localhost:" + w.port, "/", http.StatusNotFound},
			{"node01.localhost", "node01.localhost:" + w.port, "/%2e%2e/%2e%2e/api/v1/whoami", http.StatusBadRequest},
		} {
			got, body := w.raw(t, tc.sni, tc.host, tc.target, hc)
			if got != tc.want {
				t.Errorf("SNI %s Host %s %s: %d, want %d (%.120s)", tc.sni, tc.host, tc.target, got, tc.want, body)
			}
		}
	})
	t.Run("identity headers", func(t *testing.T) {
		// The proxy's corpus of identity and forwarding header names, sent
		// through the whole door: none reaches the BMC.
		data, err := os.ReadFile("../proxy/webui/testdata/request_headers_attack.txt")
		if err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: w.uiTransport(t)}
		req, _ := http.NewRequest(http.MethodGet, w.bmcURL("node01", "/"), nil)
		req.Header.Set("Cookie", hc)
		var names []string
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				names = append(names, line)
				req.Header.Set(line, "attack")
			}
		}
		if resp, body := do(t, c, req); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %.200s", resp.StatusCode, body)
		}
		seen := strings.ToLower(w.fake.headersSeen())
		for _, n := range names {
			if strings.Contains(seen, "\n"+strings.ToLower(n)+":") || strings.HasPrefix(seen, strings.ToLower(n)+":") {
				t.Errorf("BMC received %s", n)
			}
		}
		if strings.Contains(seen, "attack") {
			t.Errorf("BMC received an attack header:\n%s", seen)
		}
	})
	t.Run("HTTP/2 to a BMC host", func(t *testing.T) {
		// A connection made for the gateway's own host speaks HTTP/2; a
		// request on it for a BMC host is misdirected, so HTTP/2 never
		// reaches a BMC host.
		var protos http.Protocols
		protos.SetHTTP2(true)
		tr := &http.Transport{Protocols: &protos, ForceAttemptHTTP2: true,
			DialTLSContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				d := tls.Dialer{Config: &tls.Config{ServerName: "127.0.0.1", RootCAs: w.pool, NextProtos: []string{"h2"}}}
				return d.DialContext(ctx, network, "127.0.0.1:"+w.port)
			}}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest(http.MethodGet, w.bmcURL("node01", "/"), nil)
		req.Header.Set("Cookie", hc)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusMisdirectedRequest {
			t.Fatalf("HTTP/2 request for node01: %s %d", resp.Proto, resp.StatusCode)
		}
	})
	t.Run("no ticket without web.access", func(t *testing.T) {
		c := w.loginUI(t, "nobody", "nobody-password-1")
		_, dash := get(t, c, w.base+"/")
		if strings.Contains(dash, "/webui") {
			t.Fatal("web UI button shown without web.access")
		}
		resp, body := w.ticketURL(t, c, "node01")
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "ticket=") {
			t.Fatalf("ticket without web.access: %d %.200s", resp.StatusCode, body)
		}
	})
}

// raw sends one HTTP/1.1 request over TLS with the given SNI, request
// target and Host header, and returns the status.
func (w *webUIHarness) raw(t *testing.T, sni, host, target, cookie string) (int, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+w.port, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // test client; the server is ours
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie + "\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
