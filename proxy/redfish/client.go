package redfish

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bmc is the broker's state for one BMC: its HTTP transport, its warm
// session, what was discovered about its service, and the bound on
// concurrent operations.
type bmc struct {
	name string
	fp   string
	ep   *Endpoint // pointer: printing a bmc never shows the password
	t    *target
	o    *Options
	st   *counters
	hc   *http.Client
	tr   *http.Transport

	slots   chan struct{}
	waiting atomic.Int32
	login   chan struct{} // held while logging in: one login at a time

	mu       sync.Mutex
	sess     *session // nil: not logged in
	basic    bool     // the service has no sessions: Basic auth on every request
	root     *serviceRoot
	paths    map[string]string // discovered resource paths by role ("system", …)
	lastUsed time.Time
	active   int  // operations in flight
	dead     bool // forgotten, replaced or broker closed
	peer     *x509.Certificate
}

// session is one Redfish session: its token and its resource.
type session struct {
	token    string
	location string // path of the session resource, for logout ("" when the BMC named none)
	lastOK   time.Time
}

// counters are the broker's cumulative statistics.
type counters struct {
	logins, logouts, relogins, warm, requests atomic.Uint64
}

func newBMC(ep Endpoint, t *target, fp string, o *Options, st *counters) *bmc {
	m := &bmc{
		name: ep.Name, fp: fp, ep: &ep, t: t, o: o, st: st,
		slots: make(chan struct{}, o.MaxConcurrent),
		login: make(chan struct{}, 1),
		paths: map[string]string{},
	}
	tlsCfg := ep.TLS.ClientConfig(t.host)
	verify := tlsCfg.VerifyConnection
	tlsCfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		if len(cs.PeerCertificates) > 0 {
			m.mu.Lock()
			m.peer = cs.PeerCertificates[0]
			m.mu.Unlock()
		}
		return nil
	}
	d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	m.tr = &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            d.DialContext,
		TLSClientConfig:        tlsCfg,
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.CallTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           o.MaxConcurrent,
		MaxIdleConnsPerHost:    o.MaxConcurrent,
		MaxConnsPerHost:        o.MaxConcurrent + 1, // a logout may overlap the last operation
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      false,
	}
	m.hc = &http.Client{
		Transport: m.tr,
		// Never follow a redirect: X-Auth-Token would go wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return m
}

// acquire takes an operation slot, waiting if all are in use; at most
// MaxPending callers wait, beyond that it fails with ErrBusy at once.
func (m *bmc) acquire(ctx context.Context, stop <-chan struct{}) error {
	select {
	case m.slots <- struct{}{}:
		return nil
	default:
	}
	if int(m.waiting.Add(1)) > m.o.MaxPending {
		m.waiting.Add(-1)
		return newError(m.name, KindBusy, msgBusyQueue, nil)
	}
	defer m.waiting.Add(-1)
	select {
	case m.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(m.name, ctx)
	case <-stop:
		return newError(m.name, KindClosed, msgClosed, nil)
	}
}

func (m *bmc) release() { <-m.slots }

func ctxError(name string, ctx context.Context) *Error {
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return newError(name, KindCanceled, msgCanceled, ctx.Err())
	}
	return newError(name, KindUnreachable, msgTimeout, ctx.Err())
}

// request is one HTTP exchange with the BMC.
type request struct {
	method  string
	path    string // checked path (and query) below /redfish/v1
	body    any    // JSON-encoded when not nil
	ifMatch string
	// write: the request changes state, so a lost answer means an unknown
	// outcome (never sent again).
	write bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// secrets returns what must never appear in an error: the password and
// the current token.
func (m *bmc) secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := []string{m.ep.Password}
	if m.sess != nil {
		s = append(s, m.sess.token)
	}
	return s
}

// send performs one exchange with the given session (nil: none, or Basic
// auth when the service has no sessions). It returns the response whatever
// its status; errors are transport failures, limits and timeouts.
func (m *bmc) send(ctx context.Context, rq request, s *session, auth bool) (*response, error) {
	var body io.Reader
	var raw []byte
	if rq.body != nil {
		var err error
		if raw, err = json.Marshal(rq.body); err != nil {
			return nil, newError(m.name, KindConfig, "cannot encode the request", err)
		}
		body = bytes.NewReader(raw)
	}
	cctx, cancel := context.WithTimeoutCause(ctx, m.o.CallTimeout, errCallTimeout)
	defer cancel()
	var sent atomic.Bool
	cctx = httptrace.WithClientTrace(cctx, &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }})
	req, err := http.NewRequestWithContext(cctx, rq.method, m.t.base.String()+rq.path, body)
	if err != nil {
		return nil, newError(m.name, KindConfig, "cannot build the request", scrub(err, m.secrets()...))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("User-Agent", "bmcgate")
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.ifMatch != "" {
		req.Header.Set("If-Match", rq.ifMatch)
	}
	if auth {
		if s != nil {
			req.Header.Set("X-Auth-Token", s.token)
		} else {
			req.SetBasicAuth(m.ep.Username, m.ep.Password)
		}
	}
	m.st.requests.Add(1)
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, transportError(m.name, cctx, scrub(err, m.secrets()...), rq.write, sent.Load())
	}
	defer resp.Body.Close()
	out := &response{status: resp.StatusCode, header: resp.Header}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, m.o.MaxBody+1))
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case rerr != nil && rq.write && ok:
		// The BMC said yes; the rest of the body does not matter.
	case rerr != nil:
		return nil, transportError(m.name, cctx, scrub(rerr, m.secrets()...), false, true)
	case int64(len(b)) > m.o.MaxBody:
		if !(rq.write && ok) {
			return nil, newError(m.name, KindBMC, msgTooLarge, fmt.Errorf("%s %s: more than %d bytes", rq.method, rq.path, m.o.MaxBody))
		}
	default:
		out.body = b
	}
	if ok && s != nil {
		m.mu.Lock()
		s.lastOK = time.Now()
		m.mu.Unlock()
	}
	return out, nil
}

// call sends rq with the warm session, logging in when there is none. A 401
// means the BMC refused the request before acting on it (a Redfish service
// authenticates a request before it processes it): the session is
// dropped, a new one opened, and the request — a read or a write — is sent
// once more on it. That is the only repetition: a second 401 is an error
// (nothing done), and a write whose answer was lost is never sent again
// (send reports it as an unknown outcome, which is not a 401).
func (m *bmc) call(ctx context.Context, rq request) (*response, error) {
	s, err := m.session(ctx, rq.write || rq.method != http.MethodGet)
	if err != nil {
		return nil, err
	}
	resp, err := m.send(ctx, rq, s, true)
	if err != nil || resp.status != http.StatusUnauthorized {
		return resp, err
	}
	m.invalidate(s)
	m.st.relogins.Add(1)
	m.o.Logger.Info("redfish session refused; logging in again", "bmc", m.name)
	if s, err = m.session(ctx, false); err != nil {
		return nil, err
	}
	resp, err = m.send(ctx, rq, s, true)
	if err == nil && resp.status == http.StatusUnauthorized {
		m.invalidate(s)
		return nil, newError(m.name, KindAuth, "the BMC refused the gateway's session twice, a fresh one too; nothing was done", nil)
	}
	return resp, err
}

// session returns the warm session, logging in if needed. With probe, a
// session unused for longer than probeAfter is first checked with a GET of
// its own resource, so that a write is not the request that finds it
// expired.
func (m *bmc) session(ctx context.Context, probe bool) (*session, error) {
	m.mu.Lock()
	s, basic := m.sess, m.basic
	m.mu.Unlock()
	if basic {
		return nil, nil
	}
	if s != nil {
		m.mu.Lock()
		fresh := time.Since(s.lastOK) < probeAfter
		m.mu.Unlock()
		if !probe || fresh || s.location == "" {
			m.st.warm.Add(1)
			return s, nil
		}
		resp, err := m.send(ctx, request{method: http.MethodGet, path: s.location}, s, true)
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusUnauthorized && resp.status != http.StatusNotFound {
			m.st.warm.Add(1)
			return s, nil
		}
		m.invalidate(s)
		m.st.relogins.Add(1)
	}
	select {
	case m.login <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(m.name, ctx)
	}
	defer func() { <-m.login }()
	m.mu.Lock()
	s, basic = m.sess, m.basic
	m.mu.Unlock()
	if basic || s != nil {
		return s, nil
	}
	return m.doLogin(ctx)
}

// invalidate forgets s if it is still the current session.
func (m *bmc) invalidate(s *session) {
	if s == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == s {
		m.sess = nil
	}
}

type loginBody struct {
	UserName string
	Password string
}

// doLogin opens a session (SessionService) and makes it current. A service
// without sessions (404, 405, 501 on the collection) is used with Basic
// authentication instead.
func (m *bmc) doLogin(ctx context.Context) (*session, error) {
	coll := "/redfish/v1/SessionService/Sessions"
	if root, err := m.serviceRoot(ctx); err == nil && root.Links.Sessions.ID != "" {
		if p, err := m.resolve(root.Links.Sessions.ID); err == nil {
			coll = p
		}
	} else if err != nil && KindOf(err) != KindBMC && KindOf(err) != KindUnsupported {
		return nil, err
	}
	m.st.logins.Add(1)
	resp, err := m.send(ctx, request{method: http.MethodPost, path: coll, body: loginBody{m.ep.Username, m.ep.Password}}, nil, false)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.status >= 200 && resp.status < 300:
	case resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden || resp.status == http.StatusBadRequest:
		return nil, newError(m.name, KindAuth, msgBadLogin, fmt.Errorf("login: HTTP %d", resp.status))
	case resp.status == http.StatusNotFound || resp.status == http.StatusMethodNotAllowed || resp.status == http.StatusNotImplemented:
		return nil, m.useBasic(ctx)
	default:
		return nil, m.statusError(resp, request{method: http.MethodPost, path: coll}, "login")
	}
	token := resp.header.Get("X-Auth-Token")
	if token == "" || len(token) > 4096 {
		return nil, newError(m.name, KindBMC, "the BMC accepted the login but sent no usable X-Auth-Token", nil)
	}
	s := &session{token: token, lastOK: time.Now()}
	loc := resp.header.Get("Location")
	if loc == "" && len(resp.body) > 0 {
		var r struct {
			ID string `json:"@odata.id"`
		}
		if json.Unmarshal(resp.body, &r) == nil {
			loc = r.ID
		}
	}
	if loc != "" {
		if p, err := m.resolve(loc); err == nil {
			s.location = p
		} else {
			m.o.Logger.Warn("redfish session location ignored", "bmc", m.name, "err", err)
		}
	}
	m.mu.Lock()
	m.sess = s
	m.mu.Unlock()
	m.o.Logger.Debug("redfish session opened", "bmc", m.name)
	return s, nil
}

// useBasic switches a service without sessions to Basic authentication,
// after checking that the credentials work.
func (m *bmc) useBasic(ctx context.Context) error {
	resp, err := m.send(ctx, request{method: http.MethodGet, path: "/redfish/v1/Systems"}, nil, true)
	if err != nil {
		return err
	}
	if resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden {
		return newError(m.name, KindAuth, msgBadLogin, fmt.Errorf("basic: HTTP %d", resp.status))
	}
	if resp.status < 200 || resp.status >= 300 {
		return m.statusError(resp, request{method: http.MethodGet, path: "/redfish/v1/Systems"}, "the systems")
	}
	m.mu.Lock()
	m.basic = true
	m.mu.Unlock()
	m.o.Logger.Info("redfish service has no sessions; using Basic authentication", "bmc", m.name)
	return nil
}

// logout deletes the current session on the BMC, if any.
func (m *bmc) logout(ctx context.Context) {
	m.mu.Lock()
	s := m.sess
	m.sess = nil
	m.mu.Unlock()
	if s == nil || s.location == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, logoutTimeout)
	defer cancel()
	resp, err := m.send(ctx, request{method: http.MethodDelete, path: s.location}, s, true)
	m.st.logouts.Add(1)
	switch {
	case err != nil:
		m.o.Logger.Debug("redfish logout", "bmc", m.name, "err", err)
	case resp.status >= 300 && resp.status != http.StatusNotFound && resp.status != http.StatusUnauthorized:
		m.o.Logger.Debug("redfish logout", "bmc", m.name, "status", resp.status)
	default:
		m.o.Logger.Debug("redfish session closed", "bmc", m.name)
	}
}

// resolve turns a link the BMC sent (@odata.id, Location, an action target)
// into a path to request. Links that leave the BMC's own host or the
// Redfish tree are refused: the session token goes only to the BMC's
// Redfish service. Fragments (#/Temperatures/0) are dropped.
func (m *bmc) resolve(ref string) (string, error) {
	if ref == "" || len(ref) > 2048 {
		return "", newError(m.name, KindBMC, "the BMC sent an empty or oversized link", nil)
	}
	u, err := m.t.base.Parse(ref)
	if err != nil {
		return "", newError(m.name, KindBMC, "the BMC sent a malformed link", nil)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	if u.Scheme != "https" || !strings.EqualFold(u.Hostname(), m.t.host) || port != m.t.base.Port() || u.User != nil {
		return "", newError(m.name, KindBMC, "the BMC sent a link to another host; not followed", nil)
	}
	p := u.EscapedPath()
	if p != path.Clean(p) && p != path.Clean(p)+"/" {
		return "", newError(m.name, KindBMC, "the BMC sent a link with dot segments; not followed", nil)
	}
	if p != "/redfish/v1" && !strings.HasPrefix(p, "/redfish/v1/") {
		return "", newError(m.name, KindBMC, "the BMC sent a link outside /redfish/v1; not followed", nil)
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

// statusError turns a non-2xx answer into an error, with the BMC's own
// message (printable, bounded, scrubbed) in the cause.
func (m *bmc) statusError(resp *response, rq request, what string) error {
	cause := fmt.Errorf("%s %s: HTTP %d%s", rq.method, pathOnly(rq.path), resp.status, bmcMessage(resp.body))
	cause = scrub(cause, m.secrets()...)
	st := resp.status
	switch {
	case st >= 300 && st < 400:
		return newError(m.name, KindBMC, "the BMC redirected the request elsewhere; not followed", cause)
	case st == http.StatusUnauthorized:
		return newError(m.name, KindAuth, msgTokenRefused, cause)
	case st == http.StatusForbidden:
		return newError(m.name, KindAuth, "the BMC account lacks the privilege for "+what, cause)
	case st == http.StatusNotFound:
		return newError(m.name, KindUnsupported, "the BMC has no "+what, cause)
	case st == http.StatusMethodNotAllowed || st == http.StatusNotImplemented:
		return newError(m.name, KindUnsupported, "the BMC does not support changing "+what, cause)
	case st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests:
		return newError(m.name, KindBusy, msgBusyBMC, cause)
	case st >= 500 && rq.write:
		return newError(m.name, KindUnknownOutcome, "the BMC answered the command with an internal error ("+strconv.Itoa(st)+"); its outcome is unknown, check the state before retrying", cause)
	case st >= 500:
		return newError(m.name, KindBMC, "the BMC failed to answer ("+strconv.Itoa(st)+")", cause)
	case st == http.StatusPreconditionFailed:
		return newError(m.name, KindBMC, what+" changed on the BMC meanwhile; try again", cause)
	}
	return newError(m.name, KindBMC, "the BMC refused "+what+" ("+strconv.Itoa(st)+")", cause)
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// bmcMessage extracts the message of a Redfish error body, for logs.
func bmcMessage(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Info    []struct {
				Message string
			} `json:"@Message.ExtendedInfo"`
		} `json:"error"`
	}
	if len(body) == 0 || json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Error.Message
	if len(e.Error.Info) > 0 && e.Error.Info[0].Message != "" {
		msg = e.Error.Info[0].Message
	}
	msg = printable(msg)
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// printable drops control characters from BMC-supplied text.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' || r == '\u202d' {
			return -1
		}
		return r
	}, s))
}

// get reads the resource at p into v, which describes only the fields
// needed; a wrong type, trailing data or a non-2xx answer is an error. The
// ETag (header or @odata.etag) is returned.
func (m *bmc) get(ctx context.Context, p, what string, v any) (string, error) {
	rq := request{method: http.MethodGet, path: p}
	resp, err := m.call(ctx, rq)
	if err != nil {
		return "", err
	}
	if resp.status < 200 || resp.status >= 300 {
		if resp.status == http.StatusNotFound {
			m.forgetPaths()
		}
		return "", m.statusError(resp, rq, what)
	}
	if err := decodeStrict(resp.body, v); err != nil {
		return "", newError(m.name, KindBMC, msgMalformed, fmt.Errorf("%s %s: %w", what, pathOnly(p), err))
	}
	etag := resp.header.Get("ETag")
	if etag == "" {
		var e struct {
			ETag string `json:"@odata.etag"`
		}
		_ = json.Unmarshal(resp.body, &e)
		etag = e.ETag
	}
	return etag, nil
}

// decodeStrict decodes one JSON value into v and refuses trailing data.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// write sends a state-changing request and checks for a 2xx answer.
func (m *bmc) write(ctx context.Context, rq request, what string) (*response, error) {
	resp, err := m.call(ctx, rq)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status >= 300 {
		return nil, m.statusError(resp, rq, what)
	}
	return resp, nil
}

// peerCertificate returns the leaf certificate of the last TLS handshake.
func (m *bmc) peerCertificate() *x509.Certificate {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peer
}
