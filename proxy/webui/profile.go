package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Profile is a declarative BMC web login: the requests that log in, what
// to capture from their responses, what to replay on every proxied request
// and how to log out. Profiles are data; Builtin returns the shipped ones.
type Profile struct {
	Name string
	// Doc says where the flow is documented or observed.
	Doc string
	// Login runs in order; each step sees what earlier steps captured.
	Login []Step
	// Logout ends the BMC-side session; nil when the BMC has no logout.
	Logout *Step
	// Replay says how captured values are attached to proxied requests.
	Replay []Replay
}

// Step is one HTTP request of a login or logout.
type Step struct {
	Method string
	// Path (with an optional query) may use {{var.NAME}}; a captured value
	// that is an absolute URL contributes its path only.
	Path string
	// Headers are templates; {{username}} and {{password}} may appear.
	Headers map[string]string
	// ContentType decides how values are escaped in Body:
	// "application/json" (JSON string escapes) or
	// "application/x-www-form-urlencoded" (form escapes).
	ContentType string
	Body        string
	// Expect lists the accepted status codes; empty means any 2xx.
	Expect []int
	// RequireJSON lists JSON fields (dotted paths) of the response that
	// must have the given value (compared as text), like an iDRAC
	// authResult of 0.
	RequireJSON map[string]string
	Capture     []Capture
}

// Source is where a Capture takes its value from.
type Source string

// Capture sources.
const (
	FromHeader    Source = "header"     // a response header
	FromCookie    Source = "cookie"     // a Set-Cookie of the response
	FromJSON      Source = "json"       // a dotted path into a JSON body
	FromBodyRegex Source = "body_regex" // the first group of a regexp on the body
)

// Capture stores a value from a response in a variable. Several captures
// may fill the same variable: the first value found wins.
type Capture struct {
	Var      string
	From     Source
	Name     string
	Optional bool
}

// Replay attaches a captured variable to proxied requests, as a header or
// a cookie named Name.
type Replay struct {
	As   string // "header" or "cookie"
	Name string
	Var  string
}

// templateRE matches {{username}}, {{password}} and {{var.NAME}}.
var templateRE = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_.@-]+)\s*\}\}`)

// escaper escapes a value for where a template puts it; it refuses values
// that cannot be put there safely.
type escaper func(string) (string, error)

func jsonEscape(s string) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode value: %w", err)
	}
	return string(b[1 : len(b)-1]), nil
}

func formEscape(s string) (string, error) { return url.QueryEscape(s), nil }

func headerEscape(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00\"") {
		return "", errors.New("a value cannot be sent in a header (it holds a quote or a line break)")
	}
	return s, nil
}

func rawEscape(s string) (string, error) { return s, nil }

func bodyEscaper(contentType string) escaper {
	switch {
	case strings.HasPrefix(contentType, "application/json"):
		return jsonEscape
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		return formEscape
	}
	return rawEscape
}

// expand fills a template. Errors never quote a value.
func expand(tmpl string, creds Credentials, vars map[string]string, esc escaper) (string, error) {
	var firstErr error
	out := templateRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := templateRE.FindStringSubmatch(m)[1]
		var v string
		switch {
		case name == "username":
			v = creds.Username
		case name == "password":
			v = creds.Password
		case strings.HasPrefix(name, "var."):
			var ok bool
			if v, ok = vars[strings.TrimPrefix(name, "var.")]; !ok && firstErr == nil {
				firstErr = fmt.Errorf("template variable %s was not captured", name)
			}
		default:
			if firstErr == nil {
				firstErr = fmt.Errorf("unknown template placeholder %s", name)
			}
		}
		e, err := esc(v)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", name, err)
		}
		return e
	})
	return out, firstErr
}

// expandPath fills a path template; a captured absolute URL (a Redfish
// session Location) contributes its path.
func expandPath(tmpl string, vars map[string]string) (path, query string, err error) {
	p, err := expand(tmpl, Credentials{}, vars, rawEscape)
	if err != nil {
		return "", "", err
	}
	u, err := url.Parse(p)
	if err != nil {
		return "", "", fmt.Errorf("bad path: %w", err)
	}
	path, err = CanonicalPath(u.EscapedPath())
	if err != nil {
		return "", "", fmt.Errorf("bad path: %w", err)
	}
	return path, u.RawQuery, nil
}

// jsonField returns the text of a dotted path in a decoded JSON value.
func jsonField(v any, path string) (string, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[k]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64, bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// Validate checks a profile's shape.
func (p *Profile) Validate() error {
	if p.Name == "" || len(p.Login) == 0 {
		return errors.New("a login profile needs a name and at least one login step")
	}
	steps := append([]Step(nil), p.Login...)
	if p.Logout != nil {
		steps = append(steps, *p.Logout)
	}
	captured := map[string]bool{}
	for i, s := range steps {
		if s.Method == "" || !strings.HasPrefix(s.Path, "/") && !strings.HasPrefix(s.Path, "{{") {
			return fmt.Errorf("profile %s: step %d needs a method and a path", p.Name, i)
		}
		for _, c := range s.Capture {
			switch c.From {
			case FromHeader, FromCookie, FromJSON:
			case FromBodyRegex:
				re, err := regexp.Compile(c.Name)
				if err != nil || re.NumSubexp() != 1 {
					return fmt.Errorf("profile %s: capture %s: a body_regex needs exactly one group", p.Name, c.Var)
				}
			default:
				return fmt.Errorf("profile %s: capture %s: unknown source %q", p.Name, c.Var, c.From)
			}
			captured[c.Var] = true
		}
	}
	for i, s := range steps {
		for k := range s.Headers {
			if reservedHeader(k) {
				return fmt.Errorf("profile %s: step %d may not set %s", p.Name, i, k)
			}
		}
	}
	for _, r := range p.Replay {
		if r.As == "header" && reservedHeader(r.Name) {
			return fmt.Errorf("profile %s: replay may not set %s", p.Name, r.Name)
		}
		if r.As != "header" && r.As != "cookie" || r.Name == "" || !captured[r.Var] {
			return fmt.Errorf("profile %s: replay %s: needs as header|cookie, a name and a captured variable", p.Name, r.Name)
		}
	}
	return nil
}

// reservedHeader reports whether a profile may not set a header: the proxy
// owns these.
func reservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "connection", "content-length", "transfer-encoding", "upgrade", "te", "trailer", "keep-alive", "cookie":
		return true
	}
	return false
}
