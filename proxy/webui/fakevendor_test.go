package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// vendorBMC is a fake BMC that implements the login flows of every shipped
// profile, each the way the real UI's server does, and an /api/whoami page
// that answers only for a valid session of the given flow (with its CSRF
// token on writes).
type vendorBMC struct {
	t        *testing.T
	user     string
	password string

	mu       sync.Mutex
	next     int
	sessions map[string]string // session secret -> flow
	xsrf     map[string]string // session secret -> CSRF token
	logins   int
	logouts  int
}

func newVendorBMC(t *testing.T, user, password string) (*vendorBMC, *fakeBMC) {
	v := &vendorBMC{t: t, user: user, password: password, sessions: map[string]string{}, xsrf: map[string]string{}}
	return v, newFakeBMC(t, v)
}

func (v *vendorBMC) open(flow string) (secret, token string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.next++
	v.logins++
	secret, token = fmt.Sprintf("%s-sess-%d", flow, v.next), fmt.Sprintf("%s-csrf-%d", flow, v.next)
	v.sessions[secret], v.xsrf[secret] = flow, token
	return secret, token
}

func (v *vendorBMC) close(secret string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.sessions[secret]; !ok {
		return false
	}
	delete(v.sessions, secret)
	v.logouts++
	return true
}

func (v *vendorBMC) active() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.sessions)
}

func (v *vendorBMC) counts() (logins, logouts int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.logins, v.logouts
}

// secretOf returns the session secret a request presents and its flow.
func (v *vendorBMC) secretOf(r *http.Request) (string, string) {
	var cands []string
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		cands = append(cands, tok)
	}
	for _, name := range []string{"SESSION", "-http-session-", "sessionKey", "SID"} {
		if c, err := r.Cookie(name); err == nil {
			cands = append(cands, c.Value)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range cands {
		if f, ok := v.sessions[c]; ok {
			return c, f
		}
	}
	return "", ""
}

func (v *vendorBMC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var js map[string]any
	_ = json.Unmarshal(body, &js)
	str := func(k string) string { s, _ := js[k].(string); return s }
	switch {
	case r.Method == "POST" && r.URL.Path == "/redfish/v1/SessionService/Sessions":
		if str("UserName") != v.user || str("Password") != v.password {
			http.Error(w, `{"error":"bad credentials"}`, http.StatusUnauthorized)
			return
		}
		secret, _ := v.open("redfish")
		id := strings.TrimPrefix(secret, "redfish-sess-")
		w.Header().Set("X-Auth-Token", secret)
		w.Header().Set("Location", "https://"+r.Host+"/redfish/v1/SessionService/Sessions/"+id)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"@odata.id":"/redfish/v1/SessionService/Sessions/%s","Id":"%s"}`, id, id)
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/redfish/v1/SessionService/Sessions/"):
		if !v.close(r.Header.Get("X-Auth-Token")) || !strings.HasSuffix(r.Header.Get("X-Auth-Token"), "-"+strings.TrimPrefix(r.URL.Path, "/redfish/v1/SessionService/Sessions/")) {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)

	case r.Method == "POST" && r.URL.Path == "/login": // OpenBMC
		if str("username") != v.user || str("password") != v.password {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		secret, tok := v.open("openbmc")
		http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: secret, HttpOnly: true, Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "XSRF-TOKEN", Value: tok, Secure: true})
		fmt.Fprint(w, `{"data":"User 'x' logged in","message":"200 OK","status":"ok"}`)
	case r.Method == "POST" && r.URL.Path == "/logout":
		s, _ := v.secretOf(r)
		v.close(s)
		fmt.Fprint(w, `{"status":"ok"}`)

	case r.URL.Path == "/sysmgmt/2015/bmc/session": // iDRAC 9
		if r.Method == "DELETE" {
			s, _ := v.secretOf(r)
			v.close(s)
			fmt.Fprint(w, `{"status":"OK"}`)
			return
		}
		if r.Header.Get("user") != `"`+v.user+`"` || r.Header.Get("password") != `"`+v.password+`"` {
			fmt.Fprint(w, `{"status":"good","authResult":1}`) // iDRAC answers 200 with a failure code
			return
		}
		secret, tok := v.open("idrac9")
		http.SetCookie(w, &http.Cookie{Name: "-http-session-", Value: secret, HttpOnly: true, Secure: true})
		w.Header().Set("XSRF-TOKEN", tok)
		fmt.Fprint(w, `{"status":"good","authResult":0,"forwardUrl":"index.html"}`)

	case r.URL.Path == "/json/login_session": // iLO 5/6
		switch str("method") {
		case "login":
			if str("user_login") != v.user || str("password") != v.password {
				http.Error(w, `{"message":"JS_ERR_LOST_SESSION"}`, http.StatusForbidden)
				return
			}
			secret, _ := v.open("ilo")
			fmt.Fprintf(w, `{"session_key":%q,"user_name":"x"}`, secret)
		case "logout":
			v.close(str("session_key"))
			fmt.Fprint(w, `{}`)
		}

	case r.Method == "POST" && r.URL.Path == "/cgi/login.cgi": // Supermicro
		f, _ := url.ParseQuery(string(body))
		if f.Get("name") != v.user || f.Get("pwd") != v.password {
			fmt.Fprint(w, "<html>ATEN International: login failed</html>")
			return
		}
		secret, _ := v.open("supermicro")
		http.SetCookie(w, &http.Cookie{Name: "SID", Value: secret})
		fmt.Fprint(w, "<html><script>self.location='../cgi/url_redirect.cgi?url_name=mainmenu'</script></html>")
	case r.URL.Path == "/cgi/url_redirect.cgi":
		s, flow := v.secretOf(r)
		if flow != "supermicro" {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		v.mu.Lock()
		tok := v.xsrf[s]
		v.mu.Unlock()
		fmt.Fprintf(w, `<html><script>SmcCsrfInsert ("CSRF_TOKEN", "%s");</script></html>`, tok)
	case r.URL.Path == "/cgi/logout.cgi":
		s, _ := v.secretOf(r)
		v.close(s)
		fmt.Fprint(w, "<html>bye</html>")

	case r.URL.Path == "/api/whoami":
		s, flow := v.secretOf(r)
		if s == "" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if r.Method != "GET" {
			v.mu.Lock()
			want := v.xsrf[s]
			v.mu.Unlock()
			got := map[string]string{"openbmc": r.Header.Get("X-XSRF-TOKEN"), "idrac9": r.Header.Get("XSRF-TOKEN"), "supermicro": r.Header.Get("CSRF_TOKEN")}
			if g, needs := got[flow]; needs && g != want {
				http.Error(w, "CSRF token missing", http.StatusForbidden)
				return
			}
		}
		fmt.Fprint(w, flow)
	default:
		http.NotFound(w, r)
	}
}
