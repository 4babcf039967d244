package gateway

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/proxy/webui"
	"golang.org/x/net/websocket"
)

// TestWebUIPortLogoutEndsWebsocket: logging out on the main host ends the
// KVM websocket on the extra port too.
func TestWebUIPortLogoutEndsWebsocket(t *testing.T) {
	p := startPorts(t)
	alice, hc := p.loginEnter(t, "alice", "alice-password-1")
	pubHost := "node01.localhost:" + p.pubPort
	ws, err := dialWS(t, "node01.localhost", p.pubPort, "wss://"+pubHost+"/kvm", p.bmcURL("node01", ""), hc)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var echo string
	if err := websocket.Message.Send(ws, "x"); err != nil {
		t.Fatal(err)
	}
	if err := websocket.Message.Receive(ws, &echo); err != nil {
		t.Fatal(err)
	}
	p.logoutClosesWS(t, alice, ws, "extra-port websocket")
	p.waitRecord(t, audit.Query{Code: audit.CodeWebUIWSClose, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["host"] == pubHost
	})
	if resp, _ := p.get(t, p.portURL("node01", "/"), hc); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("extra port after logout: %d", resp.StatusCode)
	}
}

// TestWebUIPortReload: a reload re-reads which BMCs list the port; the
// listener itself stays as it was opened.
func TestWebUIPortReload(t *testing.T) {
	p := startPorts(t)
	_, hc := p.loginEnter(t, "alice", "alice-password-1")
	path := p.g.cfg.Path
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The config file as the harness wrote it, plus node01's web section
	// and the port mapping the harness set in memory.
	write := func(extraPorts string) {
		t.Helper()
		text := string(orig)
		node01 := fmt.Sprintf("      cipher_suite: 17\n    web:\n      url: %s\n      login: none\n      rewrite_body: true\n      tls:\n        pin_sha256: %q\n%s",
			p.ui.URL, webui.Fingerprint(p.ui.Certificate()), extraPorts)
		text = strings.Replace(text, "      cipher_suite: 17\n", node01, 1)
		text = strings.Replace(text, "  proxy_domain: localhost\n", fmt.Sprintf(
			"  proxy_domain: localhost\n  proxy_ports:\n    - bmc_port: %d\n      listen: \"127.0.0.1:%s\"\n", p.kvmPort, p.pubPort), 1)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.g.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("      extra_ports: [%d]\n", p.kvmPort))
	if resp, body := p.get(t, p.portURL("node01", "/status"), hc); resp.StatusCode != http.StatusOK {
		t.Fatalf("extra port after a reload that keeps it: %d %q", resp.StatusCode, body)
	}
	write("")
	if resp, body := p.get(t, p.portURL("node01", "/status"), hc); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("extra port after a reload that drops it from node01: %d %q", resp.StatusCode, body)
	}
	if resp, _ := p.get(t, p.bmcURL("node01", "/"), hc); resp.StatusCode != http.StatusOK {
		t.Fatalf("main BMC host after the reload: %d", resp.StatusCode)
	}
}
