package bmcsim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RedfishOptions configures the Redfish service of a simulated BMC. Zero
// values take the defaults.
type RedfishOptions struct {
	Addr     string // default "127.0.0.1:0"
	Username string // default "admin"
	Password string // required
	// Role of the account: Administrator (default), Operator or ReadOnly.
	Role string
	// ResetTypes the system accepts (advertised in the Reset action's
	// ActionInfo). Default: every ComputerSystem ResetType, PowerCycle
	// included.
	ResetTypes []string
	// NoActionInfo leaves out the Reset action's @Redfish.ActionInfo (the
	// allowed values are then only inline, as in the DMTF mockup);
	// BrokenActionInfo keeps the link but answers 404 for it.
	NoActionInfo     bool
	BrokenActionInfo bool
	// BootTargets the system accepts; default the DMTF mockup's list.
	BootTargets []string
	// NoSensorsCollection serves only the deprecated Thermal and Power
	// resources, as older BMCs do.
	NoSensorsCollection bool
	// MediaPatchOnly leaves out the InsertMedia/EjectMedia actions: media
	// is inserted by PATCHing Image and Inserted.
	MediaPatchOnly bool
	// IPMIDisabled reports IPMI over LAN as switched off in
	// ManagerNetworkProtocol.
	IPMIDisabled bool
	// ExtraAccounts are further BMC accounts, as name:role.
	ExtraAccounts []string
	// SessionTimeout (default 30m) and MaxSessions (default 16) bound the
	// sessions; beyond MaxSessions a login answers 503.
	SessionTimeout time.Duration
	MaxSessions    int
	// ImageRoots verifies HTTPS image servers for virtual media; nil skips
	// verification (VerifyCertificate false, as on most BMCs by default).
	ImageRoots *x509.CertPool
	// WebUI serves a small web UI of the BMC's own beside the Redfish
	// service: a login page, a system page and a KVM page whose websocket
	// streams a changing screen (see webui.go).
	WebUI bool
	// Wrap, when set, wraps the service's handler (tests inject faults).
	Wrap func(http.Handler) http.Handler
}

// Redfish is the Redfish service of a simulated BMC: HTTPS on loopback with
// a self-signed certificate, sessions with real credential checks, and
// resources seeded from the DMTF public-rackmount1 mockup that reflect the
// same simulated host as the BMC's IPMI side (power, boot override, event
// log, sensors).
type Redfish struct {
	b    *BMC
	o    RedfishOptions
	tree map[string]map[string]any // static resources by path, from the mockup
	cert tls.Certificate
	ln   net.Listener
	srv  *http.Server
	done chan struct{}

	mu            sync.Mutex
	sessions      map[string]*rfSession // by token
	nextSession   int
	logins        int
	failures      int
	resets        []string
	netProto      map[string]bool // ProtocolEnabled by protocol
	bootExtra     string          // Redfish target without an IPMI boot device
	mgrLogCleared bool
	media         map[string]*mediaState
	closeOnce     sync.Once
}

type rfSession struct {
	id       string
	token    string
	user     string
	client   string
	lastUsed time.Time
}

// StartRedfish starts the BMC's Redfish service; Close (or the BMC's ctx
// ending) stops it.
func (b *BMC) StartRedfish(ctx context.Context, o RedfishOptions) (*Redfish, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Username == "" {
		o.Username = "admin"
	}
	if o.Password == "" {
		return nil, fmt.Errorf("bmcsim %s: the Redfish service needs a password", b.name)
	}
	if o.Role == "" {
		o.Role = "Administrator"
	}
	switch o.Role {
	case "Administrator", "Operator", "ReadOnly":
	default:
		return nil, fmt.Errorf("bmcsim %s: unknown Redfish role %q", b.name, o.Role)
	}
	if o.ResetTypes == nil {
		o.ResetTypes = []string{"On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn", "PushPowerButton", "PowerCycle"}
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 16
	}
	tree, err := loadMockup()
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: %w", b.name, err)
	}
	cert, err := selfSignedLoopback(b.name)
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: %w", b.name, err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: listen %s: %w", b.name, o.Addr, err)
	}
	r := &Redfish{
		b: b, o: o, tree: tree, cert: cert, ln: ln, done: make(chan struct{}),
		sessions: map[string]*rfSession{},
		netProto: map[string]bool{},
		media:    map[string]*mediaState{},
	}
	if o.BootTargets == nil {
		r.o.BootTargets = r.mockupBootTargets()
	}
	r.netProto["IPMI"] = !o.IPMIDisabled
	var h http.Handler = http.HandlerFunc(r.serve)
	if o.WebUI {
		h = r.withWebUI(h)
	}
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	r.srv = &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(r.done)
		_ = r.srv.ServeTLS(ln, "", "")
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.done:
		}
	}()
	return r, nil
}

// Close stops the service and the image fetches in flight.
func (r *Redfish) Close() error {
	r.closeOnce.Do(func() {
		_ = r.srv.Close()
		<-r.done
		r.mu.Lock()
		for _, m := range r.media {
			if m.cancel != nil {
				m.cancel()
			}
		}
		r.mu.Unlock()
	})
	return nil
}

// URL returns https://127.0.0.1:PORT.
func (r *Redfish) URL() string { return "https://" + r.ln.Addr().String() }

// Addr returns host:port.
func (r *Redfish) Addr() string { return r.ln.Addr().String() }

// Certificate returns the service's self-signed certificate (to pin it or
// trust it as a CA).
func (r *Redfish) Certificate() *x509.Certificate { return r.cert.Leaf }

// Sessions returns the number of open sessions.
func (r *Redfish) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	return len(r.sessions)
}

// Logins returns the successful and failed logins so far.
func (r *Redfish) Logins() (ok, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logins, r.failures
}

// ExpireSessions forgets every session, as a BMC does when they time out
// or it restarts: their tokens answer 401 from now on.
func (r *Redfish) ExpireSessions() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.sessions)
}

// Resets returns the ResetType values received, in order.
func (r *Redfish) Resets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.resets...)
}

// SetIPMIEnabled changes what ManagerNetworkProtocol reports for IPMI.
func (r *Redfish) SetIPMIEnabled(on bool) { r.SetProtocolEnabled("IPMI", on) }

// SetProtocolEnabled changes what ManagerNetworkProtocol reports as the
// ProtocolEnabled of one of its protocols (HTTP, SSDP, ...).
func (r *Redfish) SetProtocolEnabled(name string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.netProto[name] = on
}

func (r *Redfish) expireLocked(now time.Time) {
	for t, s := range r.sessions {
		if now.Sub(s.lastUsed) > r.o.SessionTimeout {
			delete(r.sessions, t)
		}
	}
}

// public reports whether a request needs no authentication.
func public(method, p string) bool {
	switch p {
	case "/redfish", "/redfish/", "/redfish/v1", "/redfish/v1/", "/redfish/v1/odata", "/redfish/v1/$metadata":
		return method == http.MethodGet || method == http.MethodHead
	case "/redfish/v1/SessionService/Sessions", "/redfish/v1/SessionService/Sessions/":
		return method == http.MethodPost
	}
	return false
}

// authenticate checks X-Auth-Token or Basic credentials.
func (r *Redfish) authenticate(req *http.Request) (*rfSession, bool) {
	if tok := req.Header.Get("X-Auth-Token"); tok != "" {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.expireLocked(time.Now())
		s := r.sessions[tok]
		if s == nil {
			return nil, false
		}
		s.lastUsed = time.Now()
		return s, true
	}
	if u, p, ok := req.BasicAuth(); ok {
		return nil, r.credentialsOK(u, p)
	}
	return nil, false
}

func (r *Redfish) credentialsOK(user, pass string) bool {
	okU := subtle.ConstantTimeCompare([]byte(user), []byte(r.o.Username)) == 1
	okP := subtle.ConstantTimeCompare([]byte(pass), []byte(r.o.Password)) == 1
	return okU && okP
}

const maxRequestBody = 64 << 10

func (r *Redfish) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("OData-Version", "4.0")
	p := strings.TrimSuffix(req.URL.Path, "/")
	if p == "/redfish/v1" || p == "" {
		p = "/redfish/v1"
	}
	if p == "/redfish" {
		writeJSON(w, http.StatusOK, map[string]any{"v1": "/redfish/v1/"}, "")
		return
	}
	var sess *rfSession
	if !public(req.Method, req.URL.Path) && !public(req.Method, p) {
		s, ok := r.authenticate(req)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="bmcsim"`)
			redfishError(w, http.StatusUnauthorized, "Base.1.5.NoValidSession", "There is no valid session established with the implementation.")
			return
		}
		sess = s
	}
	var body map[string]any
	if req.Method == http.MethodPost || req.Method == http.MethodPatch {
		dec := json.NewDecoder(io.LimitReader(req.Body, maxRequestBody))
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			redfishError(w, http.StatusBadRequest, "Base.1.5.MalformedJSON", "The request body submitted was malformed JSON.")
			return
		}
		if body == nil {
			body = map[string]any{}
		}
		if r.o.Role == "ReadOnly" && p != "/redfish/v1/SessionService/Sessions" {
			redfishError(w, http.StatusForbidden, "Base.1.5.InsufficientPrivilege", "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.")
			return
		}
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		res, ok := r.get(p)
		if !ok {
			redfishError(w, http.StatusNotFound, "Base.1.5.ResourceMissingAtURI", "The resource at the URI "+p+" was not found.")
			return
		}
		if p == "/redfish/v1/Systems/"+systemID || strings.HasPrefix(p, "/redfish/v1/Systems/"+systemID+"/VirtualMedia/") {
			writeJSON(w, http.StatusOK, res, etagOf(res))
			return
		}
		if req.URL.Query().Get("$expand") != "" {
			r.expand(res)
		}
		writeJSON(w, http.StatusOK, res, "")
	case http.MethodPost:
		r.post(w, req, p, body, sess)
	case http.MethodPatch:
		r.patch(w, req, p, body)
	case http.MethodDelete:
		r.delete(w, p, sess)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, PATCH, DELETE")
		redfishError(w, http.StatusMethodNotAllowed, "Base.1.5.OperationNotAllowed", "The HTTP method is not allowed on this resource.")
	}
}

func (r *Redfish) login(w http.ResponseWriter, req *http.Request, body map[string]any) {
	user, _ := body["UserName"].(string)
	pass, _ := body["Password"].(string)
	if !r.credentialsOK(user, pass) {
		r.mu.Lock()
		r.failures++
		r.mu.Unlock()
		redfishError(w, http.StatusUnauthorized, "Base.1.5.NoValidSession", "The user name or password is not valid.")
		return
	}
	s, ok := r.openSession(user, req.RemoteAddr)
	if !ok {
		redfishError(w, http.StatusServiceUnavailable, "Base.1.5.SessionLimitExceeded", "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.")
		return
	}
	loc := "/redfish/v1/SessionService/Sessions/" + s.id
	w.Header().Set("X-Auth-Token", s.token)
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusCreated, r.sessionResource(s), "")
}

// openSession opens a session for user (whose credentials were checked),
// unless MaxSessions are open.
func (r *Redfish) openSession(user, remoteAddr string) (*rfSession, bool) {
	buf := make([]byte, 24)
	_, _ = rand.Read(buf)
	tok := hex.EncodeToString(buf)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	if len(r.sessions) >= r.o.MaxSessions {
		return nil, false
	}
	r.nextSession++
	r.logins++
	host, _, _ := net.SplitHostPort(remoteAddr)
	s := &rfSession{id: fmt.Sprintf("%d", r.nextSession), token: tok, user: user, client: host, lastUsed: time.Now()}
	r.sessions[tok] = s
	return s, true
}

func (r *Redfish) sessionResource(s *rfSession) map[string]any {
	return map[string]any{
		"@odata.type": "#Session.v1_6_0.Session", "@odata.id": "/redfish/v1/SessionService/Sessions/" + s.id,
		"Id": s.id, "Name": "User Session", "UserName": s.user, "ClientOriginIPAddress": s.client,
	}
}

func (r *Redfish) delete(w http.ResponseWriter, p string, _ *rfSession) {
	const prefix = "/redfish/v1/SessionService/Sessions/"
	if !strings.HasPrefix(p, prefix) {
		redfishError(w, http.StatusMethodNotAllowed, "Base.1.5.OperationNotAllowed", "The resource cannot be deleted.")
		return
	}
	id := strings.TrimPrefix(p, prefix)
	r.mu.Lock()
	defer r.mu.Unlock()
	for t, s := range r.sessions {
		if s.id == id {
			delete(r.sessions, t)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	redfishError(w, http.StatusNotFound, "Base.1.5.ResourceMissingAtURI", "No such session.")
}

func writeJSON(w http.ResponseWriter, code int, v any, etag string) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func redfishError(w http.ResponseWriter, code int, id, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"code": id, "message": msg,
		"@Message.ExtendedInfo": []any{map[string]any{"MessageId": id, "Message": msg, "Severity": "Critical"}},
	}}, "")
}
