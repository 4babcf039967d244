package webui

import (
	"net/http"
	"slices"
)

// Names of the shipped login profiles.
const (
	ProfileRedfish    = "redfish"
	ProfileOpenBMC    = "openbmc"
	ProfileIDRAC9     = "idrac9"
	ProfileILO5       = "ilo5"
	ProfileILO6       = "ilo6"
	ProfileSupermicro = "supermicro-x11"
)

// redfishProfile is the standard Redfish session login (DMTF DSP0266,
// "Session management"): POST the credentials to the Sessions collection,
// use the X-Auth-Token of the answer on every request, DELETE the session
// resource (the answer's Location, or its @odata.id) to log out.
func redfishProfile() *Profile {
	return &Profile{
		Name: ProfileRedfish,
		Doc:  "DMTF DSP0266 Redfish Specification, Session management: POST /redfish/v1/SessionService/Sessions, X-Auth-Token, DELETE of the session",
		Login: []Step{{
			Method:      http.MethodPost,
			Path:        "/redfish/v1/SessionService/Sessions",
			ContentType: "application/json",
			Body:        `{"UserName":"{{username}}","Password":"{{password}}"}`,
			Expect:      []int{http.StatusCreated, http.StatusOK},
			Capture: []Capture{
				{Var: "token", From: FromHeader, Name: "X-Auth-Token"},
				{Var: "session", From: FromHeader, Name: "Location", Optional: true},
				{Var: "session", From: FromJSON, Name: "@odata.id", Optional: true},
			},
		}},
		Logout: &Step{Method: http.MethodDelete, Path: "{{var.session}}"},
		Replay: []Replay{{As: "header", Name: "X-Auth-Token", Var: "token"}},
	}
}

// builtin lists the shipped profiles.
var builtin = map[string]func() *Profile{
	ProfileRedfish: redfishProfile,

	// OpenBMC (bmcweb and its webui-vue front end): POST /login with a JSON
	// user name and password sets the SESSION cookie and an XSRF-TOKEN
	// cookie; bmcweb requires the token back in X-XSRF-TOKEN on writes made
	// with the cookie; POST /logout ends the session. See the bmcweb
	// documentation (github.com/openbmc/bmcweb, "Authentication") and
	// webui-vue's authentication store.
	ProfileOpenBMC: func() *Profile {
		return &Profile{
			Name: ProfileOpenBMC,
			Doc:  "OpenBMC bmcweb: POST /login {username,password} -> SESSION and XSRF-TOKEN cookies; X-XSRF-TOKEN header on writes; POST /logout",
			Login: []Step{{
				Method:      http.MethodPost,
				Path:        "/login",
				ContentType: "application/json",
				Body:        `{"username":"{{username}}","password":"{{password}}"}`,
				Capture: []Capture{
					{Var: "session", From: FromCookie, Name: "SESSION"},
					{Var: "xsrf", From: FromCookie, Name: "XSRF-TOKEN"},
				},
			}},
			Logout: &Step{Method: http.MethodPost, Path: "/logout", ContentType: "application/json", Body: `{"data":[]}`},
			Replay: []Replay{
				{As: "cookie", Name: "SESSION", Var: "session"},
				{As: "cookie", Name: "XSRF-TOKEN", Var: "xsrf"},
				{As: "header", Name: "X-XSRF-TOKEN", Var: "xsrf"},
			},
		}
	},

	// Dell iDRAC 9 web UI: POST /sysmgmt/2015/bmc/session with the user name
	// and password in "user" and "password" headers, each wrapped in double
	// quotes; success is authResult 0 in the JSON answer, which sets the
	// "-http-session-" cookie and returns an XSRF-TOKEN header that the UI
	// sends back on every request; DELETE of the same path logs out. Dell
	// documents Redfish sessions for automation (iDRAC9 Redfish API Guide);
	// this is the flow of the iDRAC 9 web UI itself.
	ProfileIDRAC9: func() *Profile {
		return &Profile{
			Name: ProfileIDRAC9,
			Doc:  "Dell iDRAC 9 web UI: POST /sysmgmt/2015/bmc/session (user/password headers), -http-session- cookie, XSRF-TOKEN header; DELETE to log out",
			Login: []Step{{
				Method:      http.MethodPost,
				Path:        "/sysmgmt/2015/bmc/session",
				Headers:     map[string]string{"user": `"{{username}}"`, "password": `"{{password}}"`},
				RequireJSON: map[string]string{"authResult": "0"},
				Capture: []Capture{
					{Var: "session", From: FromCookie, Name: "-http-session-"},
					{Var: "xsrf", From: FromHeader, Name: "XSRF-TOKEN"},
				},
			}},
			Logout: &Step{Method: http.MethodDelete, Path: "/sysmgmt/2015/bmc/session"},
			Replay: []Replay{
				{As: "cookie", Name: "-http-session-", Var: "session"},
				{As: "header", Name: "XSRF-TOKEN", Var: "xsrf"},
			},
		}
	},

	ProfileILO5: iloProfile(ProfileILO5),
	ProfileILO6: iloProfile(ProfileILO6),

	// Supermicro X11 (and X12 in its legacy UI): POST /cgi/login.cgi with a
	// form of name and pwd sets the SID cookie; the CSRF token the UI needs
	// is embedded in pages as SmcCsrfInsert ("CSRF_TOKEN", "...") and sent
	// back in a CSRF_TOKEN header; GET /cgi/logout.cgi logs out. Supermicro
	// documents Redfish sessions for automation (Redfish Reference Guide);
	// this is the flow of the X11 web UI itself.
	ProfileSupermicro: func() *Profile {
		return &Profile{
			Name: ProfileSupermicro,
			Doc:  "Supermicro X11 web UI: POST /cgi/login.cgi name&pwd -> SID cookie; CSRF_TOKEN from SmcCsrfInsert in /cgi/url_redirect.cgi?url_name=topmenu; GET /cgi/logout.cgi",
			Login: []Step{
				{
					Method:      http.MethodPost,
					Path:        "/cgi/login.cgi",
					ContentType: "application/x-www-form-urlencoded",
					Body:        "name={{username}}&pwd={{password}}",
					Capture:     []Capture{{Var: "sid", From: FromCookie, Name: "SID"}},
				},
				{
					Method: http.MethodGet,
					Path:   "/cgi/url_redirect.cgi?url_name=topmenu",
					Capture: []Capture{
						{Var: "csrf", From: FromBodyRegex, Name: `SmcCsrfInsert\s*\(\s*"CSRF[_-]TOKEN"\s*,\s*"([^"]+)"`, Optional: true},
					},
				},
			},
			Logout: &Step{Method: http.MethodGet, Path: "/cgi/logout.cgi"},
			Replay: []Replay{
				{As: "cookie", Name: "SID", Var: "sid"},
				{As: "header", Name: "CSRF_TOKEN", Var: "csrf"},
			},
		}
	},
}

// iloProfile is the HPE iLO 5 and iLO 6 web UI login: POST
// /json/login_session {"method":"login","user_login":...,"password":...}
// answers a session_key that the UI keeps in the sessionKey cookie; the
// same endpoint with method "logout" and the key ends it. HPE documents
// Redfish sessions for automation (iLO RESTful API, "Authentication and
// Sessions"); this is the flow of the iLO web UI itself.
func iloProfile(name string) func() *Profile {
	return func() *Profile {
		return &Profile{
			Name: name,
			Doc:  "HPE iLO 5/6 web UI: POST /json/login_session method=login -> session_key, sessionKey cookie; method=logout",
			Login: []Step{{
				Method:      http.MethodPost,
				Path:        "/json/login_session",
				ContentType: "application/json",
				Body:        `{"method":"login","user_login":"{{username}}","password":"{{password}}"}`,
				Capture: []Capture{
					{Var: "key", From: FromJSON, Name: "session_key"},
				},
			}},
			Logout: &Step{
				Method:      http.MethodPost,
				Path:        "/json/login_session",
				ContentType: "application/json",
				Body:        `{"method":"logout","session_key":"{{var.key}}"}`,
			},
			Replay: []Replay{{As: "cookie", Name: "sessionKey", Var: "key"}},
		}
	}
}

// Builtin returns a fresh copy of the shipped profile called name, or nil.
func Builtin(name string) *Profile {
	if f, ok := builtin[name]; ok {
		return f()
	}
	return nil
}

// BuiltinNames returns the names of the shipped profiles, sorted.
func BuiltinNames() []string {
	out := make([]string, 0, len(builtin))
	for n := range builtin {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
