package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// maxLoginBody bounds how much of a login response is read.
const maxLoginBody = 1 << 20

// loginFailed is the user-facing text for any login failure.
const loginFailed = "the gateway could not log in to the BMC's web interface"

// Login runs prof's login steps against the BMC and returns the new
// BMC-side session. Errors carry a safe message and a cause that names the
// step and status, never a credential or a response body.
func (p *Proxy) Login(ctx context.Context, prof *Profile, creds Credentials) (*Session, error) {
	if err := prof.Validate(); err != nil {
		return nil, &Error{Msg: loginFailed, Err: fmt.Errorf("%w: %w", ErrLogin, err)}
	}
	s := newSession()
	for i, step := range prof.Login {
		if err := p.runStep(ctx, step, creds, s); err != nil {
			return nil, &Error{Msg: loginFailed, Err: fmt.Errorf("%w: %s step %d (%s %s): %w", ErrLogin, prof.Name, i+1, step.Method, step.Path, err)}
		}
		s.mu.Lock()
		applyReplay(s, prof.Replay)
		s.mu.Unlock()
	}
	// Every replayed variable must have been captured.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range prof.Replay {
		if _, ok := s.vars[r.Var]; !ok {
			return nil, &Error{Msg: loginFailed, Err: fmt.Errorf("%w: %s: nothing captured for %s", ErrLogin, prof.Name, r.Var)}
		}
	}
	return s, nil
}

// Logout runs prof's logout step for s. A BMC that does not answer is
// logged by the caller; the session is forgotten either way.
func (p *Proxy) Logout(ctx context.Context, prof *Profile, s *Session) error {
	if prof.Logout == nil || s == nil {
		return nil
	}
	if err := p.runStep(ctx, *prof.Logout, Credentials{}, s); err != nil {
		return fmt.Errorf("web: %s logout on %s: %w", prof.Name, p.cfg.Name, err)
	}
	return nil
}

// applyReplay copies captured variables into the session's replayed
// headers and cookies. s.mu must be held.
func applyReplay(s *Session, replay []Replay) {
	for _, r := range replay {
		v, ok := s.vars[r.Var]
		if !ok {
			continue
		}
		if r.As == "cookie" {
			s.cookies[r.Name] = v
		} else {
			s.headers[http.CanonicalHeaderKey(r.Name)] = v
		}
	}
}

// runStep sends one step with the session so far and captures into it.
func (p *Proxy) runStep(ctx context.Context, st Step, creds Credentials, s *Session) error {
	s.mu.Lock()
	vars := maps.Clone(s.vars) // s.vars is never nil
	s.mu.Unlock()
	req, err := p.stepRequest(ctx, st, creds, vars, s)
	if err != nil {
		return err
	}
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginBody))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if len(st.Expect) > 0 && !slices.Contains(st.Expect, resp.StatusCode) || len(st.Expect) == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc any
	decoded := false
	decode := func() any {
		if !decoded {
			decoded = true
			_ = json.Unmarshal(data, &doc)
		}
		return doc
	}
	for field, want := range st.RequireJSON {
		if got, ok := jsonField(decode(), field); !ok || got != want {
			return fmt.Errorf("answer field %s is not %s", field, want)
		}
	}
	return s.captureAll(st.Capture, resp, data, decode)
}

// stepRequest builds a step's request to the BMC: its path, query, body
// and headers expanded with the credentials and the values captured so far.
func (p *Proxy) stepRequest(ctx context.Context, st Step, creds Credentials, vars map[string]string, s *Session) (*http.Request, error) {
	path, query, err := expandPath(st.Path, vars)
	if err != nil {
		return nil, err
	}
	body, err := expand(st.Body, creds, vars, bodyEscaper(st.ContentType))
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if st.Body != "" {
		rd = strings.NewReader(body)
	}
	req, err := p.bmcRequest(ctx, st.Method, path, rd, s)
	if err != nil {
		return nil, err
	}
	req.URL.RawQuery = query
	if st.ContentType != "" {
		req.Header.Set("Content-Type", st.ContentType)
	}
	req.Header.Set("Accept", "application/json, text/html;q=0.9, */*;q=0.8")
	for k, tmpl := range st.Headers {
		v, err := expand(tmpl, creds, vars, headerEscape)
		if err != nil {
			return nil, err
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// captureAll captures a step's values into the session (a value captured
// earlier stays) and fails when a required one is missing.
func (s *Session) captureAll(caps []Capture, resp *http.Response, data []byte, decode func() any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range caps {
		if _, done := s.vars[c.Var]; done {
			continue
		}
		v, ok := capture(c, resp, data, decode)
		if ok && v != "" {
			s.vars[c.Var] = v
		}
	}
	for _, c := range caps {
		if _, ok := s.vars[c.Var]; !ok && !c.Optional {
			return fmt.Errorf("the answer has no %s %s", c.From, c.Name)
		}
	}
	return nil
}

// capture extracts one value from a response.
func capture(c Capture, resp *http.Response, body []byte, doc func() any) (string, bool) {
	switch c.From {
	case FromHeader:
		v := resp.Header.Get(c.Name)
		return v, v != ""
	case FromCookie:
		for _, ck := range resp.Cookies() {
			if ck.Name == c.Name && ck.Value != "" {
				return ck.Value, true
			}
		}
	case FromJSON:
		return jsonField(doc(), c.Name)
	case FromBodyRegex:
		re, err := regexp.Compile(c.Name)
		if err != nil {
			return "", false
		}
		if m := re.FindSubmatch(body); len(m) == 2 {
			return string(bytes.TrimSpace(m[1])), true
		}
	}
	return "", false
}
