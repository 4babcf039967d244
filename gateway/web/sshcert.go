package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/sshca"
	gossh "golang.org/x/crypto/ssh"
)

// SSHCerts is the part of the gateway's SSH user CA the web door uses:
// issue a certificate to a login's user, list them, and tell the registry
// what the login's refreshes find.
type SSHCerts interface {
	Issue(req sshca.Request) (*gossh.Certificate, sshca.Cert, error)
	Discard(serial uint64)
	Of(user string) []sshca.Cert
	Live(login string) bool
	SetGroups(login string, groups []string)
	EndLogin(login, why string)
	LiveLogins() []string
}

// maxPublicKeyLen bounds the public key a user pastes.
const maxPublicKeyLen = 16 << 10

// certIssue is one issued certificate, as the page and the API show it.
type certIssue struct {
	Cert    sshca.Cert
	Text    string // the certificate, authorized_keys format
	SSHLine string
}

// certFailure is why a certificate was not issued: the status and a plain
// message.
type certFailure struct {
	status int
	msg    string
}

// issueCert signs the public key keyText for the session's user, valid for
// lifetimeText (default and at most ssh.cert_max_lifetime), with the roles
// the session has now. It is recorded in the audit log (serial, key
// fingerprint, validity, roles) before it is handed out: a certificate
// whose record cannot be written is discarded.
func (s *Server) issueCert(r *http.Request, ss *Session, keyText, lifetimeText string) (certIssue, *certFailure) {
	if s.certs == nil || !s.certsOn.Load() {
		return certIssue{}, &certFailure{http.StatusNotFound, "This gateway does not issue SSH certificates (ssh.issue_certificates is off)."}
	}
	if ss.Method != methodOIDC {
		return certIssue{}, &certFailure{http.StatusForbidden, "SSH certificates are issued to single sign-on logins only."}
	}
	key, msg := parseUserKey(keyText)
	if msg != "" {
		return certIssue{}, &certFailure{http.StatusBadRequest, msg}
	}
	max := s.certMax.Load().(time.Duration)
	life := max
	if t := strings.TrimSpace(lifetimeText); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d < time.Minute || d > max {
			return certIssue{}, &certFailure{http.StatusBadRequest, "The validity must be a duration from 1m to " + max.String() + ", like 8h or 30m."}
		}
		life = d
	}
	roles := s.sessionRoles(r, ss)
	if len(roles) == 0 {
		return certIssue{}, &certFailure{http.StatusForbidden, "Your login has no bmcgate role to put in a certificate."}
	}
	cert, rec, err := s.certs.Issue(sshca.Request{User: ss.User, Key: key, Roles: roles, Groups: ss.Groups, Login: ss.Handle, Lifetime: life})
	if errors.Is(err, sshca.ErrTooMany) {
		return certIssue{}, &certFailure{http.StatusTooManyRequests, "You hold " + strconv.Itoa(sshca.MaxPerUser) + " unexpired certificates: let some expire, or have them revoked."}
	}
	if err != nil {
		s.log.Error("issuing an SSH certificate failed", "user", ss.User, "err", err)
		return certIssue{}, &certFailure{http.StatusInternalServerError, "The certificate could not be issued."}
	}
	c, _ := CallerFrom(r.Context())
	if err := s.svc.Audit(r.Context(), certRecord(c, rec)); err != nil {
		s.certs.Discard(rec.Serial)
		return certIssue{}, &certFailure{http.StatusServiceUnavailable, "The certificate could not be recorded in the audit log, so it was not issued."}
	}
	return certIssue{Cert: rec, Text: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(cert))), SSHLine: s.sshLine(ss.User)}, nil
}

// certRecord is the cert.issue audit record: never the key, only its
// fingerprint.
func certRecord(c service.Caller, rec sshca.Cert) audit.Record {
	return audit.Record{Code: audit.CodeCertIssue, Actor: rec.User, Door: c.Door, Source: c.Source, Session: c.Session,
		Outcome: audit.OutcomeOK, Reason: "SSH certificate " + strconv.FormatUint(rec.Serial, 10) + " issued; roles " + strings.Join(rec.Roles, ","),
		Fields: map[string]string{
			"serial":       strconv.FormatUint(rec.Serial, 10),
			"fingerprint":  rec.Fingerprint,
			"key_id":       rec.KeyID,
			"valid_after":  rec.ValidAfter.Format(time.RFC3339),
			"valid_before": rec.ValidBefore.Format(time.RFC3339),
			"roles":        strings.Join(rec.Roles, ","),
		}}
}

// parseUserKey reads one authorized_keys line (no options) and applies the
// gateway's key rules: no certificate, no weak key.
func parseUserKey(text string) (gossh.PublicKey, string) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > maxPublicKeyLen || strings.ContainsAny(text, "\r\n") {
		return nil, "Paste one public key line, like the contents of ~/.ssh/id_ed25519.pub."
	}
	key, _, opts, rest, err := gossh.ParseAuthorizedKey([]byte(text))
	switch {
	case err != nil || len(rest) > 0:
		return nil, "That is not a public key line: paste the contents of ~/.ssh/id_ed25519.pub."
	case len(opts) > 0:
		return nil, "Paste the key without authorized_keys options."
	}
	if _, isCert := key.(*gossh.Certificate); isCert {
		return nil, "That is a certificate: paste the public key itself."
	}
	if msg := configs.WeakKey(key); msg != "" {
		return nil, "The key is refused: " + msg + "."
	}
	return key, ""
}

// sshLine is the ssh command to log in with a certificate: the SSH door's
// port and the public URL's host.
func (s *Server) sshLine(user string) string {
	host := "GATEWAY"
	if u, err := url.Parse(s.cfg.Load().PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	port := "22"
	if _, p, err := net.SplitHostPort(s.sshAddr); err == nil {
		port = p
	}
	target := user + "@" + host
	if strings.ContainsAny(user, " '\"\\$`;&|<>()") {
		target = "'" + strings.ReplaceAll(target, "'", `'\''`) + "'"
	}
	return fmt.Sprintf("ssh -p %s -o CertificateFile=~/.ssh/id_ed25519-cert.pub -i ~/.ssh/id_ed25519 %s", port, target)
}

// sshPage shows the SSH access page.
func (s *Server) sshPage(w http.ResponseWriter, r *http.Request) {
	s.renderSSH(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderSSH(w http.ResponseWriter, r *http.Request, status int, issued *certIssue, problem string) {
	ss := SessionFrom(r.Context())
	if s.certs == nil {
		s.errorPage(w, r, http.StatusNotFound, "This gateway does not issue SSH certificates.")
		return
	}
	data := map[string]any{"User": ss.User, "Roles": strings.Join(s.sessionRoles(r, ss), ", "),
		"Max": s.certMax.Load().(time.Duration).String(), "Certs": s.certs.Of(ss.User), "Error": problem}
	if issued != nil {
		data["Issued"], data["Certificate"], data["SSHLine"] = issued.Cert, issued.Text, issued.SSHLine
	}
	s.render(w, r, status, "ssh", data)
}

// sshSign signs the key the form sent.
func (s *Server) sshSign(w http.ResponseWriter, r *http.Request) {
	ss := SessionFrom(r.Context())
	got, fail := s.issueCert(r, ss, r.PostFormValue("public_key"), r.PostFormValue("lifetime"))
	if fail != nil {
		s.renderSSH(w, r, fail.status, nil, fail.msg)
		return
	}
	s.renderSSH(w, r, http.StatusOK, &got, "")
}

// apiSSHCert is POST /api/v1/ssh/certificates: {"public_key": LINE,
// "lifetime": "8h"} with the browser session (and X-CSRF-Token); bearer
// tokens have no web login for the certificate to follow.
func (s *Server) apiSSHCert(w http.ResponseWriter, r *http.Request) {
	ss := SessionFrom(r.Context())
	if ss == nil {
		apiError(w, http.StatusForbidden, "needs_login", "SSH certificates are issued to a browser login (single sign-on), not to bearer tokens")
		return
	}
	var req struct {
		PublicKey string `json:"public_key"`
		Lifetime  string `json:"lifetime"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*maxPublicKeyLen)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "the body must be {\"public_key\": LINE, \"lifetime\": DURATION}")
		return
	}
	got, fail := s.issueCert(r, ss, req.PublicKey, req.Lifetime)
	if fail != nil {
		apiError(w, fail.status, "refused", fail.msg)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"serial": strconv.FormatUint(got.Cert.Serial, 10), "certificate": got.Text, "fingerprint": got.Cert.Fingerprint,
		"valid_after": got.Cert.ValidAfter, "valid_before": got.Cert.ValidBefore, "roles": got.Cert.Roles, "ssh": got.SSHLine})
}
