package web

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/bmchost"
	"github.com/bmcgate/bmcgate/gateway/httpfront"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// The main door's side of the BMC web UI hosts (gateway/bmchost): it owns the
// listener (and its TLS), routes requests for <bmc>.<proxy_domain> there,
// asks for a ticket when a user opens a BMC's web UI (webui_open.go), ends
// a user's BMC-host sessions with the user session, and answers the BMC
// hosts' questions about user sessions through bmcUsers.

// GatewayCookies are the names of the cookies the web doors set, for the
// BMC proxy to keep out of BMC responses and requests.
func GatewayCookies() []string {
	return []string{SessionCookie, PreLoginCookie, bmchost.Cookie, DeviceCookie}
}

// setupBMCHosts builds the BMC hosts and, when web.proxy_domain is set,
// adds the wildcard certificate for BMC hosts, offered with HTTP/1.1 alone
// (front.go routes the requests). Called once from New.
func (s *Server) setupBMCHosts(dataDir string) error {
	w := s.cfg.Load()
	o := bmchost.Options{Config: s.cfg.Load, Service: s.svc, Users: bmcUsers{s}, Front: s.front,
		Server: s.http, Track: s.track, Logger: s.log, Now: s.now}
	if w.ProxyDomain != "" {
		cert, err := loadProxyCertificate(w.ProxyTLS.CertFile, w.ProxyTLS.KeyFile, dataDir, w.ProxyDomain, s.log)
		if err != nil {
			return err
		}
		base := s.http.TLSConfig
		bmcConf := base.Clone()
		bmcConf.Certificates = []tls.Certificate{cert}
		// HTTP/1.1 only on BMC hosts: websockets (KVM consoles) need the
		// Upgrade handshake, which HTTP/2 does not carry.
		bmcConf.NextProtos = []string{"http/1.1"}
		o.TLS = bmcConf
		base.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			if httpfront.UnderDomain(hi.ServerName, w.ProxyDomain) {
				return bmcConf, nil
			}
			return nil, nil
		}
	}
	s.bmc = bmchost.New(o)
	return nil
}

// BMCHosts are the BMC web UI hosts served on this door's listener: the
// gateway hands them their brokers (SetUIs) and runs their re-check (Run).
func (s *Server) BMCHosts() *bmchost.Hosts { return s.bmc }

// bmcFormAction is the CSP form-action source of the BMC hosts: the main
// host's "Open web UI" form redirects there.
func (s *Server) bmcFormAction() string {
	w := s.cfg.Load()
	h := w.BMCHost("x")
	if h == "" {
		return ""
	}
	return " https://*" + strings.TrimPrefix(h, "x")
}

// bmcUsers answers the BMC hosts' questions about the main door's user
// sessions: the ticket redeemer's side of the hand-off.
type bmcUsers struct{ s *Server }

// User reads the user session id for a request on a BMC host, exactly as
// the main door's own requests read theirs, and says how long the copy
// may stand for it: for at most a tenth of the idle timeout (and touchEvery),
// while the store has not deleted or ended any session since (store.epoch),
// the copy has not expired and is not due for an OpenID refresh. After
// that the store is read again, which also touches LastSeen, refreshes and
// writes tombstones.
func (u bmcUsers) User(r *http.Request, id string) (bmchost.User, error) {
	s := u.s
	at := s.now()
	epoch := s.store.epoch.Load() // before the read: an end meanwhile invalidates the copy
	ss, _, err := s.sessionByID(r, id)
	if err != nil {
		return bmchost.User{}, err
	}
	return bmchost.User{Caller: sessionCaller(ss, audit.DoorWeb, r), Name: ss.User, Expires: ss.Expires,
		Fresh: func() bool { return s.freshCopy(ss, at, epoch) }}, nil
}

// freshCopy reports whether ss, read at at under store epoch epoch, still
// stands for the stored session (see bmcUsers.User).
func (s *Server) freshCopy(ss *Session, at time.Time, epoch uint64) bool {
	now := s.now()
	lim := s.cfg.Load().Session
	ttl := min(touchEvery, lim.IdleTimeout.Duration/10)
	return epoch == s.store.epoch.Load() && now.Sub(at) < ttl && !now.Before(at) &&
		!ss.expired(now, lim.IdleTimeout.Duration) && !(ss.Method == methodOIDC && now.After(ss.RefreshAt))
}

// Check reads the user session id without touching it: its caller while
// it is live, else why it ended.
func (u bmcUsers) Check(id string) (service.Caller, string) {
	s := u.s
	var ss Session
	if err := s.store.get(bucketSessions, id, &ss); err != nil || ss.expired(s.now(), s.cfg.Load().Session.IdleTimeout.Duration) {
		return service.Caller{}, "the bmcgate session ended"
	}
	if ss.Ended != "" {
		return service.Caller{}, "the bmcgate session ended: " + ss.Ended
	}
	return service.Caller{Identity: ss.identity(), Door: audit.DoorWeb, Session: ss.Handle}, ""
}
