package webui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/internal/usererr"
)

// Proxy forwards requests to one BMC's web interface. It is safe for
// concurrent use. Build it with New; it keeps one transport (one TLS
// configuration and connection pool) for its BMC.
type Proxy struct {
	cfg         Config
	t           *target
	log         *slog.Logger
	transport   *http.Transport
	rp          *httputil.ReverseProxy
	reqHeaders  headerFilter // what reaches the BMC
	respHeaders headerFilter // what reaches the browser
	gwCookies   map[string]bool
	guard       *AccountGuard
}

// Request is what the gateway knows about one browser request to a BMC
// host, beyond the *http.Request itself.
type Request struct {
	// PublicHost is the host[:port] the browser used for the BMC's main
	// port, like "node01.bmc.example.com", written as the browser writes
	// it in Host and Origin (no :443). Required.
	PublicHost string
	// Port is the BMC port this request goes to: 0 for the URL's port,
	// else one of Config.ExtraPorts.
	Port int
	// PortHost returns the public host[:port] mapped to an extra BMC port,
	// or "" when it is not mapped; nil maps none.
	PortHost func(port int) string
	// Session is the BMC-side session attached to the request; nil when the
	// BMC needs no login.
	Session *Session
	// Authorize is consulted with the recognised operation before anything
	// is sent to the BMC; an error refuses the request with 403 and the
	// error's UserMessage() (if it has one). Required: a nil Authorize
	// refuses everything.
	Authorize func(Operation) error
	// Audit, if set, receives the summary once the response is complete (for
	// a websocket, once it has closed).
	Audit func(Summary)
	// Opened, if set, is called when the BMC has accepted a websocket
	// upgrade, before any frame flows; Audit follows when it closes.
	Opened func(Summary)
}

// allowedMethods are the methods forwarded to a BMC; CONNECT, TRACE and
// anything unknown are refused.
var allowedMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodOptions: true, http.MethodPost: true,
	http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true,
}

type ctxKey struct{}

// reqState is the per-request state the ReverseProxy hooks read.
type reqState struct {
	p         *Proxy
	req       Request
	port      int
	canonical string
	sum       *Summary // filled as the request goes; read by hooks
	start     time.Time
	upstream  int   // the BMC's status code
	err       error // transport error, for the summary

	// Built on first use by origins and replacements; the hooks of one
	// request run on one goroutine.
	origs [][2]string
	reps  []replacement
}

// New checks cfg and returns a proxy for its BMC.
func New(cfg Config) (*Proxy, error) {
	t, err := cfg.target()
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg:       cfg,
		t:         t,
		log:       cfg.Logger,
		gwCookies: map[string]bool{},
	}
	if p.reqHeaders, err = newHeaderFilter(requestAllowed, requestCredentials, cfg.RequestHeaders, cfg.GatewayHeaders); err != nil {
		return nil, fmt.Errorf("web: BMC %s: request_headers: %w", cfg.Name, err)
	}
	if p.respHeaders, err = newHeaderFilter(responseAllowed, responseCredentials, cfg.ResponseHeaders, cfg.GatewayHeaders); err != nil {
		return nil, fmt.Errorf("web: BMC %s: response_headers: %w", cfg.Name, err)
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("bmc", cfg.Name)
	for _, c := range cfg.GatewayCookies {
		p.gwCookies[c] = true
	}
	if cfg.TLS.InsecureSkipVerifyDangerous {
		p.log.Warn("TLS certificate verification toward this BMC is OFF (insecure_skip_verify): anyone on the network path can read and change its web traffic and steal its session")
	}
	p.transport = newTransport(&cfg, t)
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      p.transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	return p, nil
}

// Insecure reports whether certificate verification toward the BMC is off,
// for the gateway to flag in its UI.
func (p *Proxy) Insecure() bool { return p.cfg.TLS.InsecureSkipVerifyDangerous }

// SetAccountGuard makes the proxy refuse changes to the gateway's own BMC
// account (see AccountGuard). Call it before serving.
func (p *Proxy) SetAccountGuard(g *AccountGuard) { p.guard = g }

// Close closes idle connections to the BMC.
func (p *Proxy) Close() { p.transport.CloseIdleConnections() }

// Serve forwards r to the BMC, or refuses it. It always writes a response.
// Canceling r's context ends the request, a live websocket included: that
// is how the gateway ends a BMC UI session whose user session ended or
// whose access was revoked.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request, req Request) {
	start := time.Now()
	cw := &countingWriter{ResponseWriter: w, ctx: r.Context()}
	sum := Summary{BMC: p.cfg.Name, Method: r.Method, Path: "(refused path)"}
	st := &reqState{p: p, req: req, port: p.t.port, sum: &sum, start: start}
	body := &countingReader{}
	defer func() {
		sum.Status = cw.status()
		if cw.code == 0 && st.upstream == http.StatusSwitchingProtocols {
			sum.Status = st.upstream // hijacked: the writer never saw it
		}
		sum.BytesIn, sum.BytesOut = body.n, cw.n
		sum.Duration = time.Since(start)
		if sum.Err == nil {
			sum.Err = st.err
		}
		if req.Audit != nil {
			req.Audit(sum)
		}
	}()
	out, rf := p.admit(cw, r, st, body)
	if rf != nil {
		sum.Refused, sum.Err = rf.msg, rf.err
		http.Error(cw, rf.msg, rf.code)
		return
	}
	// rewrite attaches the session, which marks it used.
	p.rp.ServeHTTP(cw, out)
}

// refusal is a request the proxy answers itself: the status, the text the
// user sees and the cause for the audit record.
type refusal struct {
	code int
	msg  string
	err  error
}

func refuse(code int, msg string, err error) *refusal { return &refusal{code, msg, err} }

// admit checks r in order — target port, method, header size, path,
// upgrade and origin, body, classification, policy, the gateway's own
// account — and returns the request to forward (a shallow copy carrying
// st), or why it is refused.
func (p *Proxy) admit(cw *countingWriter, r *http.Request, st *reqState, body *countingReader) (*http.Request, *refusal) {
	if rf := p.checkTarget(r, st); rf != nil {
		return nil, rf
	}
	canonical, err := CanonicalPath(r.URL.EscapedPath())
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "the request path is not allowed", err)
	}
	st.canonical = canonical
	st.sum.Path = auditPath(canonical, r.URL.RawQuery)

	// Work on a shallow copy carrying the state; the caller's request keeps
	// its body and headers (the reverse proxy clones headers itself).
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	ws, rf := st.checkUpgrade(r)
	if rf != nil {
		return nil, rf
	}
	body.r = http.MaxBytesReader(cw, r.Body, or(p.cfg.MaxRequestBody, DefaultMaxRequestBody))
	r.Body = body
	var head []byte
	if needsBody(r.Method, canonical) {
		head, err = io.ReadAll(io.LimitReader(body, maxClassifyBody+1))
		if err != nil || len(head) > maxClassifyBody {
			return nil, refuse(http.StatusRequestEntityTooLarge, "request body too large for this operation", errors.Join(ErrBadRequest, err))
		}
		r.Body = io.NopCloser(bytes.NewReader(head))
		r.ContentLength = int64(len(head))
	}
	if rf := p.authorize(r, st, ws, head); rf != nil {
		return nil, rf
	}
	return r, nil
}

// checkTarget checks what needs no parsing: the gateway's own setup, the
// BMC port asked for, the method and the size of the headers.
func (p *Proxy) checkTarget(r *http.Request, st *reqState) *refusal {
	req := st.req
	if req.PublicHost == "" {
		return refuse(http.StatusInternalServerError, "the gateway is misconfigured for this BMC", errors.New("web: Request.PublicHost is empty"))
	}
	if req.Port != 0 && req.Port != p.t.port {
		if !p.t.extra[req.Port] {
			return refuse(http.StatusForbidden, "this BMC port is not mapped", newError("port not mapped", ErrBadRequest, "port %d is not an extra port of %s", req.Port, p.cfg.Name))
		}
		st.port = req.Port
	}
	if !allowedMethods[r.Method] {
		return refuse(http.StatusMethodNotAllowed, "method not allowed", newError("method", ErrBadRequest, "method %q", r.Method))
	}
	if headerSize(r.Header) > or(p.cfg.MaxHeaderBytes, DefaultMaxHeaderBytes) {
		return refuse(http.StatusRequestHeaderFieldsTooLarge, "request headers too large", ErrBadRequest)
	}
	return nil
}

// checkUpgrade drops any upgrade but a websocket's (h2c and others) and
// checks the Origin of websockets and writes: it must be the BMC host's.
// It reports whether r is a websocket handshake.
func (st *reqState) checkUpgrade(r *http.Request) (bool, *refusal) {
	ws := false
	if r.Header.Get("Upgrade") != "" || headerHasToken(r.Header, "Connection", "upgrade") {
		if IsWebsocket(r) {
			ws = true
		} else {
			r.Header = r.Header.Clone()
			dropUpgrade(r.Header) // h2c and any other upgrade
		}
	}
	st.sum.Websocket = ws
	origin := r.Header.Get("Origin")
	if (ws || !isRead(r.Method)) && origin != "" && st.bmcOriginFor(origin) == "" {
		return ws, refuse(http.StatusForbidden, "cross-origin request refused", newError("origin", ErrBadRequest, "origin %q is not the BMC host's", origin))
	}
	if ws && origin == "" {
		return ws, refuse(http.StatusForbidden, "websocket without Origin refused", ErrBadRequest)
	}
	return ws, nil
}

// authorize classifies the request (head is the body read for it) and
// asks the gateway's policy; an authorized change of the gateway's own BMC
// account is refused after a lookup on the BMC.
func (p *Proxy) authorize(r *http.Request, st *reqState, ws bool, head []byte) *refusal {
	op, err := Classify(r.Method, st.canonical, head)
	op.Websocket = ws
	st.sum.Operation = op
	if err != nil {
		return refuse(http.StatusBadRequest, usererr.MessageOr(err, "request refused"), err)
	}
	if st.req.Authorize == nil {
		return refuse(http.StatusForbidden, "forbidden", errors.New("web: no Authorize callback"))
	}
	if err := st.req.Authorize(op); err != nil {
		return refuse(http.StatusForbidden, usererr.MessageOr(err, "forbidden by the gateway's policy"), err)
	}
	// Only an authorized account change costs a lookup on the BMC.
	if p.guard != nil && p.guard.guards(op) {
		if err := p.guard.check(r.Context(), op, head, p.lookupFunc(st.req.Session)); err != nil {
			return refuse(http.StatusForbidden, usererr.MessageOr(err, "refused: this would change the gateway's own BMC account"), err)
		}
	}
	return nil
}

// rewrite builds the outbound request: always to the BMC, with the
// canonical path, cleaned headers and the BMC-side session.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(ctxKey{}).(*reqState)
	out := pr.Out
	out.URL = &url.URL{
		Scheme:   "https",
		Host:     net.JoinHostPort(p.t.host, strconv.Itoa(st.port)),
		Path:     st.canonical,
		RawQuery: pr.In.URL.RawQuery,
	}
	out.Host = st.hostHeader(st.port)
	p.reqHeaders.filter(out.Header, st.req.Session != nil, st.sum.Websocket)
	if len(p.gwCookies) > 0 {
		removeCookies(out.Header, func(name string) bool { return p.gwCookies[name] })
	}
	st.outboundOrigin(out.Header)
	if p.cfg.RewriteBody {
		// Let the transport ask for gzip and decode it, so bodies can be
		// rewritten; other encodings are not offered.
		out.Header.Del("Accept-Encoding")
	}
	if s := st.req.Session; s != nil {
		s.apply(out.Header)
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header.Set("User-Agent", "") // no Go default
	}
}

// modifyResponse fixes what a BMC's response says about its own address.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	st := resp.Request.Context().Value(ctxKey{}).(*reqState)
	st.upstream = resp.StatusCode
	if resp.StatusCode == http.StatusSwitchingProtocols && st.req.Opened != nil {
		open := *st.sum
		open.Status, open.Duration = resp.StatusCode, time.Since(st.start)
		st.req.Opened(open)
	}
	if resp.StatusCode == http.StatusUnauthorized && st.req.Session != nil {
		st.req.Session.markStale() // the pool logs in afresh on the next Acquire
	}
	h := resp.Header
	upgrade := resp.StatusCode == http.StatusSwitchingProtocols && st.sum.Websocket
	p.respHeaders.filter(h, st.req.Session != nil, upgrade)
	if len(resp.Trailer) > 0 && resp.Body != nil {
		// The transport fills in trailers when the body ends: filter the
		// announced names now and the received ones then.
		p.respHeaders.filter(resp.Trailer, st.req.Session != nil, false)
		resp.Body = &trailerFilter{ReadCloser: resp.Body, done: func() { p.respHeaders.filter(resp.Trailer, st.req.Session != nil, false) }}
	}
	for _, name := range []string{"Location", "Content-Location"} {
		if v := h.Get(name); v != "" {
			h.Set(name, st.rewriteLocation(v))
		}
	}
	st.rewriteSetCookies(h)
	// Headers that carry the BMC's absolute address in free text.
	for _, name := range []string{"Refresh", "Content-Security-Policy", "Link"} {
		if vs := h.Values(name); len(vs) > 0 {
			reps := st.replacements()
			for i, v := range vs {
				vs[i] = rewriteString(v, reps)
			}
		}
	}
	for i, v := range h.Values("Content-Security-Policy") {
		h["Content-Security-Policy"][i] = withoutReporting(v)
	}
	st.rewriteCORS(h)
	if resp.StatusCode == http.StatusSwitchingProtocols || !p.cfg.RewriteBody {
		return nil
	}
	if h.Get("Content-Encoding") == "" && rewritable(h.Get("Content-Type")) && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = newLinkRewriter(resp.Body, st.replacements())
		resp.ContentLength = -1
		h.Del("Content-Length")
	}
	return nil
}

// errorHandler answers when the BMC could not be reached or its
// certificate did not verify. The cause goes to the log and the summary,
// the user gets a fixed text.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	st, _ := r.Context().Value(ctxKey{}).(*reqState)
	if st != nil {
		st.err = err
	}
	if errors.Is(err, context.Canceled) {
		w.WriteHeader(499) // the browser went away; nobody reads this
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	p.log.Warn("BMC web request failed", "err", err)
	http.Error(w, "the BMC's web interface did not answer correctly", http.StatusBadGateway)
}
