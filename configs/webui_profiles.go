package configs

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// WebProfile is a BMC web-UI login defined in the config, for BMCs the
// shipped profiles do not cover. It has the shape of the shipped ones
// (package proxy/webui): login steps, captures, replayed headers and
// cookies, and a logout step. Templates may use {{username}},
// {{password}} and {{var.NAME}} (a captured value).
type WebProfile struct {
	Name  string           `yaml:"name"`
	Doc   string           `yaml:"doc"`
	Login []WebProfileStep `yaml:"login"`
	// Logout is optional: a step without a method means none.
	Logout WebProfileStep `yaml:"logout"`
	Replay []WebReplay    `yaml:"replay"`
}

// WebProfileStep is one request of a login or logout.
type WebProfileStep struct {
	Method      string            `yaml:"method"`
	Path        string            `yaml:"path"`
	Headers     map[string]string `yaml:"headers"`
	ContentType string            `yaml:"content_type"`
	Body        string            `yaml:"body"`
	Expect      []int             `yaml:"expect"`
	RequireJSON map[string]string `yaml:"require_json"`
	Capture     []WebCapture      `yaml:"capture"`
}

// WebCapture stores a value of a response (From: header, cookie, json or
// body_regex; Name: the header, cookie, dotted JSON path or a regexp with
// one group) in a variable.
type WebCapture struct {
	Var      string `yaml:"var"`
	From     string `yaml:"from"`
	Name     string `yaml:"name"`
	Optional bool   `yaml:"optional"`
}

// WebReplay attaches a captured variable to proxied requests.
type WebReplay struct {
	As   string `yaml:"as"` // header or cookie
	Name string `yaml:"name"`
	Var  string `yaml:"var"`
}

var (
	varNameRE    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,31}$`)
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
	placeholder  = regexp.MustCompile(`\{\{\s*([^}]*?)\s*\}\}`)
)

// reservedHeaders may not be set by a profile: the proxy owns them.
var reservedHeaders = map[string]bool{
	"host": true, "connection": true, "content-length": true, "transfer-encoding": true,
	"upgrade": true, "te": true, "trailer": true, "keep-alive": true, "cookie": true,
}

// webProfiles checks the config's own login profiles. It runs before the
// BMCs, whose web.login may name them.
func (v *validator) webProfiles() {
	seen := map[string]string{}
	for i := range v.c.WebProfiles {
		p := &v.c.WebProfiles[i]
		field := indexPath("web_profiles", i)
		nf := fieldPath(field, "name")
		switch err := checkName(p.Name, "profile name", false); {
		case err != nil:
			v.probs.add(nf, "%v", err)
		case slices.Contains(WebLoginProfiles, p.Name):
			v.probs.add(nf, "%q is a shipped profile: choose another name", p.Name)
		case seen[p.Name] != "":
			v.probs.add(nf, "%s", dupMessage("web profile", p.Name, seen[p.Name]))
		default:
			seen[p.Name] = field
		}
		if len(p.Login) == 0 {
			v.probs.add(fieldPath(field, "login"), "at least one login step is required")
		}
		captured := map[string]bool{}
		for j := range p.Login {
			v.webStep(indexPath(fieldPath(field, "login"), j), &p.Login[j], captured)
		}
		if v.present(fieldPath(field, "logout")) {
			v.webStep(fieldPath(field, "logout"), &p.Logout, captured)
		}
		for j, r := range p.Replay {
			rf := indexPath(fieldPath(field, "replay"), j)
			if r.As != "header" && r.As != "cookie" {
				v.probs.add(fieldPath(rf, "as"), "use header or cookie")
			}
			if !headerNameRE.MatchString(r.Name) || r.As == "header" && reservedHeaders[strings.ToLower(r.Name)] {
				v.probs.add(fieldPath(rf, "name"), "not a header or cookie name the proxy may set")
			}
			if !captured[r.Var] {
				v.probs.add(fieldPath(rf, "var"), "no login step captures %q", r.Var)
			}
		}
	}
}

// webStep checks one step and records the variables it captures.
func (v *validator) webStep(field string, s *WebProfileStep, captured map[string]bool) {
	switch s.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		v.probs.add(fieldPath(field, "method"), "use GET, POST, PUT, PATCH or DELETE")
	}
	if !strings.HasPrefix(s.Path, "/") && !strings.HasPrefix(s.Path, "{{") {
		v.probs.add(fieldPath(field, "path"), "must start with / (a path on the BMC) or be a {{var.NAME}}")
	}
	switch s.ContentType {
	case "", "application/json", "application/x-www-form-urlencoded":
	default:
		v.probs.add(fieldPath(field, "content_type"), "use application/json or application/x-www-form-urlencoded")
	}
	for k := range s.Headers {
		if !headerNameRE.MatchString(k) || reservedHeaders[strings.ToLower(k)] {
			v.probs.add(keyPath(fieldPath(field, "headers"), k), "not a header name a profile may set")
		}
	}
	for name, text := range map[string]string{"path": s.Path, "body": s.Body} {
		v.placeholders(fieldPath(field, name), text, captured)
	}
	for k, h := range s.Headers {
		v.placeholders(keyPath(fieldPath(field, "headers"), k), h, captured)
	}
	for i, code := range s.Expect {
		if code < 100 || code > 599 {
			v.probs.add(indexPath(fieldPath(field, "expect"), i), "not an HTTP status code")
		}
	}
	for i, c := range s.Capture {
		cf := indexPath(fieldPath(field, "capture"), i)
		if !varNameRE.MatchString(c.Var) {
			v.probs.add(fieldPath(cf, "var"), "a variable name is a letter then letters, digits or '_' (at most 32)")
		}
		switch c.From {
		case "header", "cookie", "json":
			if c.Name == "" {
				v.probs.add(fieldPath(cf, "name"), "required")
			}
		case "body_regex":
			if re, err := regexp.Compile(c.Name); err != nil || re.NumSubexp() != 1 {
				v.probs.add(fieldPath(cf, "name"), "must be a regular expression with exactly one group")
			}
		default:
			v.probs.add(fieldPath(cf, "from"), "use header, cookie, json or body_regex")
		}
		captured[c.Var] = true
	}
}

// placeholders checks the {{...}} placeholders of a template.
func (v *validator) placeholders(field, text string, captured map[string]bool) {
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		name := m[1]
		switch {
		case name == "username" || name == "password":
		case strings.HasPrefix(name, "var.") && captured[strings.TrimPrefix(name, "var.")]:
		case strings.HasPrefix(name, "var."):
			v.probs.add(field, "{{%s}}: no earlier step captures %q", name, strings.TrimPrefix(name, "var."))
		default:
			v.probs.add(field, "unknown placeholder {{%s}}: use {{username}}, {{password}} or {{var.NAME}}", name)
		}
	}
}

// hasWebProfile reports whether the config defines a login profile named s.
func (v *validator) hasWebProfile(s string) bool {
	for _, p := range v.c.WebProfiles {
		if p.Name == s {
			return true
		}
	}
	return false
}

// String names the profile.
func (p WebProfile) String() string { return fmt.Sprintf("web profile %s", p.Name) }
