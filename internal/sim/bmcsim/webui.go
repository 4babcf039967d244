package bmcsim

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/websocket"
)

// The simulated BMC's own web UI (RedfishOptions.WebUI), served beside the
// Redfish service as BMC firmware does: a login page (the BMC's account,
// giving a session cookie), a system page, and a KVM page whose script
// opens a websocket on which the BMC streams a changing text screen. A
// request carrying the Redfish session's X-Auth-Token (as the gateway's
// web-UI proxy sends after logging in with the Redfish profile) needs no
// login.

const (
	uiCookie = "bmcsim_session"
	// kvmFrameEvery is the KVM screen's frame interval; kvmMaxFrames bounds
	// one websocket's stream (ten minutes).
	kvmFrameEvery = 200 * time.Millisecond
	kvmMaxFrames  = 3000
)

var uiTemplates = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}} - simulated BMC</title><link rel="stylesheet" href="/ui/style.css"></head>
<body><header><span id="bmc-ui">{{.Name}}</span> simulated BMC web UI</header>{{end}}
{{define "login"}}{{template "head" .}}
<main><h1>Log in to {{.Name}}</h1>
<form method="post" action="/ui/login">
<label>User <input id="user" name="user" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<button type="submit">Log in</button></form></main></body></html>{{end}}
{{define "system"}}{{template "head" .}}
<main><h1 id="system">System</h1>
<dl><dt>Host name</dt><dd>{{.Name}}</dd><dt>Power</dt><dd id="power">{{.Power}}</dd>
<dt>Model</dt><dd>{{.Model}}</dd><dt>Logged in as</dt><dd id="whoami">{{.User}}</dd></dl>
<p><a id="kvm-link" href="/ui/kvm">Open the KVM console</a></p></main></body></html>{{end}}
{{define "kvm"}}{{template "head" .}}
<main><h1>KVM console</h1><p id="kvm-state">connecting</p>
<pre id="screen"></pre><p><a href="/ui/system">Back to the system page</a></p>
<script src="/ui/kvm.js"></script></main></body></html>{{end}}
`))

const uiStyle = `body{font-family:system-ui,sans-serif;margin:0}header{background:#234;color:#fff;padding:.5rem 1rem}
main{padding:1rem}label,input,button{display:block;margin:.3rem 0}#error{color:#b00}
#screen{background:#000;color:#3f3;padding:.5rem;font:14px monospace;min-height:24em;max-width:100%;overflow:auto}
@media (prefers-color-scheme: dark){body{background:#111;color:#ddd}}`

const uiKVMScript = `"use strict";
(function () {
  var screen = document.getElementById("screen"), state = document.getElementById("kvm-state");
  var frames = 0;
  var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ui/kvm/ws");
  ws.onopen = function () { state.textContent = "connected"; };
  ws.onmessage = function (e) {
    frames++;
    screen.textContent = e.data;
    state.textContent = "connected, " + frames + " frames";
    state.setAttribute("data-frames", String(frames));
  };
  ws.onclose = function () { state.textContent = "disconnected after " + frames + " frames"; };
})();
`

// withWebUI serves the web UI beside the Redfish service next.
func (r *Redfish) withWebUI(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/redfish", next)
	mux.Handle("/redfish/", next)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		if _, ok := r.uiUser(req); ok {
			http.Redirect(w, req, "/ui/system", http.StatusFound)
			return
		}
		http.Redirect(w, req, "/ui/login", http.StatusFound)
	})
	mux.HandleFunc("GET /ui/login", func(w http.ResponseWriter, req *http.Request) { r.uiPage(w, "login", "", "") })
	mux.HandleFunc("POST /ui/login", r.uiLogin)
	mux.HandleFunc("GET /ui/system", r.uiAuthed("system"))
	mux.HandleFunc("GET /ui/kvm", r.uiAuthed("kvm"))
	mux.HandleFunc("GET /ui/style.css", uiAsset("text/css; charset=utf-8", uiStyle))
	mux.HandleFunc("GET /ui/kvm.js", uiAsset("text/javascript; charset=utf-8", uiKVMScript))
	mux.Handle("GET /ui/kvm/ws", websocket.Server{
		Handshake: func(_ *websocket.Config, req *http.Request) error {
			if _, ok := r.uiUser(req); !ok {
				return errors.New("no session")
			}
			return nil
		},
		Handler: r.kvmStream,
	})
	return mux
}

func uiAsset(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		_, _ = io.WriteString(w, body)
	}
}

// uiUser returns the user of the request's session: the X-Auth-Token
// header or the UI's session cookie.
func (r *Redfish) uiUser(req *http.Request) (string, bool) {
	tok := req.Header.Get("X-Auth-Token")
	if tok == "" {
		if c, err := req.Cookie(uiCookie); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	s := r.sessions[tok]
	if s == nil {
		return "", false
	}
	s.lastUsed = time.Now()
	return s.user, true
}

func (r *Redfish) uiAuthed(page string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		user, ok := r.uiUser(req)
		if !ok {
			http.Redirect(w, req, "/ui/login", http.StatusFound)
			return
		}
		r.uiPage(w, page, user, "")
	}
}

func (r *Redfish) uiPage(w http.ResponseWriter, page, user, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; frame-ancestors 'self'")
	if msg != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	power := map[bool]string{true: "On", false: "Off"}[r.b.chassis.power()]
	_ = uiTemplates.ExecuteTemplate(w, page, struct{ Name, Power, Model, User, Error string }{
		r.b.name, power, "bmcsim rackmount", user, msg})
}

func (r *Redfish) uiLogin(w http.ResponseWriter, req *http.Request) {
	req.Body = http.MaxBytesReader(w, req.Body, maxRequestBody)
	if err := req.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !r.credentialsOK(req.PostFormValue("user"), req.PostFormValue("password")) {
		r.mu.Lock()
		r.failures++
		r.mu.Unlock()
		r.uiPage(w, "login", "", "Login failed")
		return
	}
	s, ok := r.openSession(req.PostFormValue("user"), req.RemoteAddr)
	if !ok {
		http.Error(w, "too many sessions", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: uiCookie, Value: s.token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, req, "/ui/system", http.StatusSeeOther)
}

// kvmStream sends a new screen every kvmFrameEvery until the client
// leaves, the service stops or kvmMaxFrames were sent.
func (r *Redfish) kvmStream(ws *websocket.Conn) {
	defer ws.Close()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		_, _ = io.Copy(io.Discard, io.LimitReader(ws, 1<<20))
	}()
	t := time.NewTicker(kvmFrameEvery)
	defer t.Stop()
	for n := 1; n <= kvmMaxFrames; n++ {
		if err := websocket.Message.Send(ws, r.kvmScreen(n, time.Now())); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-gone:
			return
		case <-r.done:
			return
		}
	}
}

// kvmScreen is frame n of the KVM screen: a text console with the host's
// name, power state, the time and a moving bar.
func (r *Redfish) kvmScreen(n int, now time.Time) string {
	var b strings.Builder
	power := map[bool]string{true: "on", false: "off"}[r.b.chassis.power()]
	fmt.Fprintf(&b, "%s KVM  frame %d  %s  power %s\n\n", r.b.name, n, now.UTC().Format("15:04:05.0"), power)
	fmt.Fprintf(&b, "%s login: _\n\n", r.b.name)
	pos := n % 40
	b.WriteString("[" + strings.Repeat(" ", pos) + "###" + strings.Repeat(" ", 39-pos) + "]\n")
	return b.String()
}
