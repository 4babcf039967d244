package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bmcgate/bmcgate/proxy/webui"
	"golang.org/x/net/websocket"
)

// fakeBMCWeb is a BMC web UI for tests: a Redfish SessionService login, a
// page that needs the session's X-Auth-Token, a websocket echo standing in
// for a KVM console, and a ComputerSystem.Reset action.
type fakeBMCWeb struct {
	srv       *httptest.Server
	user      string
	pass      string
	mu        sync.Mutex
	tokens    map[string]bool
	logins    atomic.Int32
	logouts   atomic.Int32
	loggedOut chan struct{} // receives once per logout (buffered; extra ones are dropped)
	resets    atomic.Int32
	lastSeen  atomic.Value // string: headers of the last page request, for leak checks
	pages     sync.Map     // path -> HTML of more pages a test adds (behind the login)
}

// fakeBMCPage is the UI's start page; its script opens the websocket and
// shows the echo.
const fakeBMCPage = `<!doctype html><title>Fake BMC</title>
<p id="state">logged in to the BMC</p><p id="ws">waiting</p>
<script src="/app.js"></script>`

const fakeBMCScript = `const ws = new WebSocket("wss://" + location.host + "/kvm");
ws.onopen = () => ws.send("ping-kvm");
ws.onmessage = (e) => { document.getElementById("ws").textContent = "echo:" + e.data; ws.close(); };
ws.onerror = () => { document.getElementById("ws").textContent = "error"; };
fetch("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", {method: "POST",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify({ResetType: "ForceRestart"})})
  .then(async (r) => { const p = document.createElement("p"); p.id = "reset";
    p.textContent = r.status + " " + (await r.text()); document.body.appendChild(p); });
`

func startFakeBMCWeb(t testing.TB, user, pass string) *fakeBMCWeb {
	t.Helper()
	f := &fakeBMCWeb{user: user, pass: pass, tokens: map[string]bool{}, loggedOut: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /redfish/v1/SessionService/Sessions", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ UserName, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserName != f.user || body.Password != f.pass {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		n := f.logins.Add(1)
		tok := "secret-bmc-token-" + string(rune('a'+n))
		f.mu.Lock()
		f.tokens[tok] = true
		f.mu.Unlock()
		w.Header().Set("X-Auth-Token", tok)
		w.Header().Set("Location", "/redfish/v1/SessionService/Sessions/"+tok)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"@odata.id":"/redfish/v1/SessionService/Sessions/`+tok+`"}`)
	})
	mux.HandleFunc("DELETE /redfish/v1/SessionService/Sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !f.authed(r) {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		delete(f.tokens, r.PathValue("id"))
		f.mu.Unlock()
		f.logouts.Add(1)
		select {
		case f.loggedOut <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset", func(w http.ResponseWriter, r *http.Request) {
		if !f.authed(r) {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		f.resets.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/kvm", websocket.Server{
		Handshake: func(*websocket.Config, *http.Request) error { return nil },
		Handler:   func(ws *websocket.Conn) { _, _ = io.Copy(ws, ws) },
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = io.WriteString(w, fakeBMCScript)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fake-BMC", "1")
		if !f.authed(r) {
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		var hdr strings.Builder
		_ = r.Header.Write(&hdr)
		f.lastSeen.Store(hdr.String())
		if page, ok := f.pages.Load(r.URL.Path); ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, page.(string))
			return
		}
		if r.URL.Path != "/" {
			http.Error(w, "fake BMC: no such page "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, fakeBMCPage)
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// authed reports whether r carries a live session token.
func (f *fakeBMCWeb) authed(r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[r.Header.Get("X-Auth-Token")]
}

// pin is the fingerprint of the fake BMC's certificate, for bmcs[i].web.tls.
func (f *fakeBMCWeb) pin() string { return webui.Fingerprint(f.srv.Certificate()) }

// headersSeen returns the request headers of the last page the BMC served.
func (f *fakeBMCWeb) headersSeen() string {
	s, _ := f.lastSeen.Load().(string)
	return s
}
