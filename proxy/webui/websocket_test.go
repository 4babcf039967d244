package webui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// TestWebsocket proxies a websocket echo standing in for an HTML5 KVM, with
// the Origin rewritten for the BMC and checked for the browser.
func TestWebsocket(t *testing.T) {
	var bmc *fakeBMC
	var sawOrigin, sawToken string
	echo := websocket.Server{
		Handshake: func(c *websocket.Config, r *http.Request) error {
			sawOrigin, sawToken = r.Header.Get("Origin"), r.Header.Get("X-Auth-Token")
			if sawOrigin != "https://"+bmc.hostPort() {
				return fmt.Errorf("bad origin %q", sawOrigin)
			}
			return nil
		},
		Handler: func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) },
	}
	bmc = newFakeBMC(t, echo)
	sess := NewStaticSession(map[string]string{"X-Auth-Token": "kvm-token"}, nil)
	opened := make(chan Summary, 1)
	fr := newFront(t, mustNew(t, pinnedConfig(bmc)), Request{Session: sess, Opened: func(s Summary) { opened <- s }})
	wsURL := "ws" + strings.TrimPrefix(fr.srv.URL, "http") + "/kvm/console"

	cfg, err := websocket.NewConfig(wsURL, "https://"+publicHost)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("dial through proxy: %v", err)
	}
	select {
	case s := <-opened:
		if !s.Websocket || s.Status != http.StatusSwitchingProtocols || s.Path != "/kvm/console" {
			t.Errorf("opened summary %+v", s)
		}
	default:
		t.Error("no opened event")
	}
	for _, msg := range []string{"hello", strings.Repeat("k", 70000)} {
		if err := websocket.Message.Send(conn, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != msg {
			t.Fatalf("echo: got %d bytes, want %d", len(got), len(msg))
		}
	}
	conn.Close()
	if sawToken != "kvm-token" {
		t.Errorf("BMC session not attached to the upgrade: %q", sawToken)
	}
	// The summary arrives once the websocket has closed.
	waitFor(t, func() bool {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		return len(fr.audits) == 1
	})
	if s := fr.lastAudit(t); !s.Websocket || s.Status != http.StatusSwitchingProtocols || !s.Operation.Websocket {
		t.Errorf("summary %+v", s)
	}

	// Another origin, or none, is refused before the BMC sees anything.
	n := bmc.hitCount()
	for _, origin := range []string{"https://evil.example", "https://node02.bmc.test", "http://" + publicHost} {
		cfg, _ := websocket.NewConfig(wsURL, origin)
		if c, err := websocket.DialConfig(cfg); err == nil {
			c.Close()
			t.Errorf("origin %s accepted", origin)
		}
	}
	req, _ := http.NewRequest("GET", fr.srv.URL+"/kvm", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("websocket without Origin: %d", resp.StatusCode)
	}
	if bmc.hitCount() != n {
		t.Errorf("refused upgrades reached the BMC")
	}
}

// TestWebsocketEndsWithContext: the gateway ends a live websocket (the
// user's session ended, or policy changed) by canceling the request's
// context.
func TestWebsocketEndsWithContext(t *testing.T) {
	bmc := newFakeBMC(t, websocket.Handler(func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) }))
	p := mustNew(t, pinnedConfig(bmc))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, done := dialKVMWithContext(t, p, ctx)
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case s := <-done:
		if s.Status != http.StatusSwitchingProtocols {
			t.Errorf("summary %+v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("websocket still open after the context ended")
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(buf); err == nil {
		t.Error("read after the end succeeded")
	}
}

// TestWebsocketEndsWithContextAfterBMCClosed: when the BMC has already
// closed its side and the browser keeps its connection open, canceling
// the request's context still ends the websocket (and its summary is
// delivered) instead of waiting for the browser to hang up.
func TestWebsocketEndsWithContextAfterBMCClosed(t *testing.T) {
	bmc := newFakeBMC(t, websocket.Handler(func(ws *websocket.Conn) {
		buf := make([]byte, 3)
		_, _ = io.ReadFull(ws, buf) // "bye", then the BMC hangs up
	}))
	p := mustNew(t, pinnedConfig(bmc))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, done := dialKVMWithContext(t, p, ctx)
	if _, err := conn.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 16)); err == nil {
		t.Fatal("read after the BMC hung up succeeded")
	}
	select {
	case s := <-done:
		t.Fatalf("summary before the context ended: %+v", s) // the browser still holds its side
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case s := <-done:
		if s.Status != http.StatusSwitchingProtocols {
			t.Errorf("summary %+v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("websocket not ended by the context after the BMC closed its side")
	}
}

// dialKVMWithContext opens a websocket through p whose requests carry ctx;
// the request's summary arrives on the returned channel.
func dialKVMWithContext(t *testing.T, p *Proxy, ctx context.Context) (*websocket.Conn, <-chan Summary) {
	t.Helper()
	done := make(chan Summary, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Serve(w, r.WithContext(ctx), Request{PublicHost: publicHost, Authorize: func(Operation) error { return nil }, Audit: func(s Summary) { done <- s }})
	}))
	t.Cleanup(front.Close)
	cfg, _ := websocket.NewConfig("ws"+strings.TrimPrefix(front.URL, "http")+"/kvm", "https://"+publicHost)
	conn, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, done
}

// TestIsWebsocket: only a GET asking for a websocket upgrade (and only
// that) is a websocket handshake.
func TestIsWebsocket(t *testing.T) {
	for _, c := range []struct {
		method, connection, upgrade string
		want                        bool
	}{
		{http.MethodGet, "Upgrade", "websocket", true},
		{http.MethodGet, "keep-alive, upgrade", " WebSocket ", true},
		{http.MethodPost, "Upgrade", "websocket", false},
		{http.MethodGet, "", "websocket", false},
		{http.MethodGet, "Upgrade", "h2c", false},
		{http.MethodGet, "Upgrade", "", false},
	} {
		r := httptest.NewRequest(c.method, "https://n1.example/kvm", nil)
		r.Header.Set("Connection", c.connection)
		r.Header.Set("Upgrade", c.upgrade)
		if got := IsWebsocket(r); got != c.want {
			t.Errorf("IsWebsocket(%s, Connection %q, Upgrade %q) = %v, want %v", c.method, c.connection, c.upgrade, got, c.want)
		}
	}
}
