package bmcsim

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

func TestWebUI(t *testing.T) {
	_, rf := startRedfishSim(t, RedfishOptions{Username: "admin", WebUI: true})
	pool := x509.NewCertPool()
	pool.AddCert(rf.Certificate())
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(rf.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Without a session every page leads to the login page.
	for _, p := range []string{"/", "/ui/system", "/ui/kvm"} {
		if resp, body := get(p); resp.Request.URL.Path != "/ui/login" || !strings.Contains(body, `action="/ui/login"`) {
			t.Fatalf("%s without a session went to %s", p, resp.Request.URL)
		}
	}
	if _, body := get("/redfish/v1/Systems"); !strings.Contains(body, "NoValidSession") {
		t.Fatalf("the Redfish service beside the UI: %s", body)
	}
	ws := func(hdr http.Header) (*websocket.Conn, error) {
		cfg, _ := websocket.NewConfig("wss"+strings.TrimPrefix(rf.URL(), "https")+"/ui/kvm/ws", rf.URL())
		cfg.TlsConfig = &tls.Config{RootCAs: pool}
		cfg.Header = hdr
		return websocket.DialConfig(cfg)
	}
	if conn, err := ws(nil); err == nil {
		conn.Close()
		t.Fatal("KVM websocket without a session")
	}
	resp, err := c.PostForm(rf.URL()+"/ui/login", url.Values{"user": {"admin"}, "password": {"wrong-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, err = c.PostForm(rf.URL()+"/ui/login", url.Values{"user": {"admin"}, "password": {rfTestPass}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/ui/system" || !strings.Contains(string(b), `id="power">On<`) || !strings.Contains(string(b), `id="whoami">admin<`) {
		t.Fatalf("after login %s:\n%s", resp.Request.URL, b)
	}
	var cookie string
	for _, ck := range jar.Cookies(resp.Request.URL) {
		if ck.Name == uiCookie {
			cookie = ck.Value
		}
	}
	// The cookie's session is a Redfish session: its token is the
	// X-Auth-Token a proxy logged in with the Redfish profile would send.
	conn, err := ws(http.Header{"X-Auth-Token": {cookie}})
	if err != nil {
		t.Fatalf("KVM websocket: %v", err)
	}
	defer conn.Close()
	var frames []string
	for range 3 {
		var f string
		if err := websocket.Message.Receive(conn, &f); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if !strings.Contains(frames[0], "rf01 KVM  frame 1") || frames[0] == frames[2] {
		t.Fatalf("KVM frames %q", frames)
	}
}
