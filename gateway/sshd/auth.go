package sshd

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// User is an account that may log in over SSH: its name and keys. What it
// may do is not here: the service layer resolves the account's roles under the current
// config at every decision.
type User struct {
	Name     string
	Keys     []gossh.PublicKey
	Disabled bool
}

// Directory is the immutable set of SSH users and trusted user CAs. A
// config reload installs a new one.
type Directory struct {
	users       map[string]*User
	keys        map[string]map[string]bool // user -> marshalled key -> true
	cas         []gossh.PublicKey
	revokedKeys string // revoked-keys file, "" for none
	// gatewayCA is the gateway's own user CA (ssh.issue_certificates),
	// whose certificates name single sign-on users; certs says whether
	// one still stands. nil when off.
	gatewayCA gossh.PublicKey
	certs     GatewayCerts
}

// GatewayCerts answers whether a certificate of the gateway's own CA still
// stands (not revoked, its web login alive).
type GatewayCerts interface {
	Standing(serial uint64) (groups []string, why string)
}

// WithGatewayCA returns a copy of d that accepts certificates of the
// gateway's own user CA ca for single sign-on users, while certs says they
// stand.
func (d *Directory) WithGatewayCA(ca gossh.PublicKey, certs GatewayCerts) *Directory {
	c := *d
	c.gatewayCA, c.certs = ca, certs
	return &c
}

// WithRevokedKeys returns a copy of d that refuses the keys and
// certificates the file at path revokes (an OpenSSH KRL or a list of
// public keys; see package krl). The file is re-read when it changes.
func (d *Directory) WithRevokedKeys(path string) *Directory {
	c := *d
	c.revokedKeys = path
	return &c
}

// NewDirectory builds a directory. Certificates are accepted only when at
// least one CA is given.
func NewDirectory(users []User, cas []gossh.PublicKey) *Directory {
	d := &Directory{users: map[string]*User{}, keys: map[string]map[string]bool{}, cas: cas}
	for i := range users {
		u := users[i]
		d.users[u.Name] = &u
		d.keys[u.Name] = map[string]bool{}
		for _, k := range u.Keys {
			d.keys[u.Name][string(k.Marshal())] = true
		}
	}
	return d
}

// User returns the named, enabled user.
func (d *Directory) User(name string) (*User, bool) {
	u, ok := d.users[name]
	if !ok || u.Disabled {
		return nil, false
	}
	return u, true
}

func (d *Directory) isCA(k gossh.PublicKey) bool {
	m := k.Marshal()
	for _, ca := range d.cas {
		if bytes.Equal(ca.Marshal(), m) {
			return true
		}
	}
	return false
}

// Extension keys carried in the gossh.Permissions of the key that was
// actually verified. Identity is read only from there.
const (
	extUser         = "bmcgate-user"
	extAuth         = "bmcgate-auth"
	extForceCommand = "bmcgate-force-command"
	extNoPTY        = "bmcgate-no-pty"      // a certificate without permit-pty
	extSerial       = "bmcgate-cert-serial" // a gateway certificate's serial (its identity is single sign-on)
	extRoles        = "bmcgate-cert-roles"  // the roles a gateway certificate carries
)

// refusal is why a key was refused: a stable class, for the audit
// aggregation and the summary of a connection's refusals, and a reason with
// the detail (fingerprints, serials). Neither is shown to the client.
type refusal struct{ class, reason string }

// supportedCriticalOptions are the certificate critical options bmcgate
// honours; a certificate with any other critical option is refused, as the
// certificate format requires.
var supportedCriticalOptions = []string{"force-command", "source-address"}

// checkKey decides whether key may log in as user. It returns the
// permissions to attach to this key (its identity) or why it is refused,
// which is recorded in the audit log (never shown to the client).
func (d *Directory) checkKey(user string, key gossh.PublicKey, remote net.Addr, now time.Time) (*gossh.Permissions, refusal) {
	if cert, isCert := key.(*gossh.Certificate); isCert && d.gatewayCA != nil &&
		bytes.Equal(cert.SignatureKey.Marshal(), d.gatewayCA.Marshal()) {
		return d.checkGatewayCert(user, cert, now)
	}
	u, ok := d.User(user)
	if !ok {
		return nil, refusal{"unknown or disabled user", "unknown or disabled user"}
	}
	if cert, isCert := key.(*gossh.Certificate); isCert {
		return d.checkCert(u, cert, remote, now)
	}
	if !d.keys[u.Name][string(key.Marshal())] {
		return nil, refusal{"key not authorized", "key not authorized for user " + gossh.FingerprintSHA256(key)}
	}
	return &gossh.Permissions{Extensions: map[string]string{
		extUser: u.Name,
		extAuth: "publickey " + gossh.FingerprintSHA256(key),
	}}, refusal{}
}

// checkCert checks a user certificate: a user CA signed it (not with
// SHA-1), for this user as a principal, now within its validity, with only
// the critical options bmcgate honours; the certified key and the CA key
// obey the same strength rules as listed keys. Of the extensions only
// permit-pty matters: without it no terminal is given. bmcgate never
// forwards ports, agents or X11 and runs no user rc, so the other permit-*
// extensions grant nothing.
func (d *Directory) checkCert(u *User, cert *gossh.Certificate, remote net.Addr, now time.Time) (*gossh.Permissions, refusal) {
	refuse := func(class, reason string) (*gossh.Permissions, refusal) {
		return nil, refusal{"certificate " + class, "certificate refused: " + reason}
	}
	if len(d.cas) == 0 {
		return refuse("without a user CA", "no user CA is configured")
	}
	if cert.CertType != gossh.UserCert {
		return refuse("not a user certificate", "not a user certificate")
	}
	if !d.isCA(cert.SignatureKey) {
		return refuse("from an unknown CA", "signed by an unknown CA "+gossh.FingerprintSHA256(cert.SignatureKey))
	}
	if msg := configs.WeakKey(cert.Key); msg != "" {
		return refuse("over a weak key", "the certified key: "+msg)
	}
	if msg := configs.WeakKey(cert.SignatureKey); msg != "" {
		return refuse("from a weak CA key", "the CA key: "+msg)
	}
	if cert.Signature == nil || cert.Signature.Format == gossh.KeyAlgoRSA {
		return refuse("signed with SHA-1", "the CA signed it with ssh-rsa (SHA-1): sign with rsa-sha2-256 or rsa-sha2-512")
	}
	checker := gossh.CertChecker{
		SupportedCriticalOptions: supportedCriticalOptions,
		Clock:                    func() time.Time { return now },
	}
	// CheckCert verifies the CA signature, that the user name is one of
	// the principals, the validity window and the critical options.
	if err := checker.CheckCert(u.Name, cert); err != nil {
		return refuse(certClass(err.Error()), err.Error())
	}
	if len(cert.ValidPrincipals) == 0 {
		return refuse("without principals", "it has no principals")
	}
	if src, ok := cert.CriticalOptions["source-address"]; ok {
		if err := checkSourceAddress(remote, src); err != nil {
			return refuse("from a source not allowed", err.Error())
		}
	}
	ext := map[string]string{
		extUser: u.Name,
		extAuth: fmt.Sprintf("certificate id=%q serial=%d ca=%s", cert.KeyId, cert.Serial, gossh.FingerprintSHA256(cert.SignatureKey)),
	}
	if fc, ok := cert.CriticalOptions["force-command"]; ok {
		ext[extForceCommand] = fc
	}
	if _, ok := cert.Extensions["permit-pty"]; !ok {
		ext[extNoPTY] = "1"
	}
	return &gossh.Permissions{Extensions: ext}, refusal{}
}

// checkGatewayCert checks a certificate of the gateway's own CA: a user
// certificate for this user as its one principal, within its validity,
// without critical options, and still standing in the registry (not
// revoked, the web login it came from alive). The user need not be listed
// under users: the identity is the single sign-on user, with the
// certificate's roles as far as the current config still grants them.
func (d *Directory) checkGatewayCert(user string, cert *gossh.Certificate, now time.Time) (*gossh.Permissions, refusal) {
	refuse := func(class, reason string) (*gossh.Permissions, refusal) {
		return nil, refusal{"gateway certificate " + class, "gateway certificate refused: " + reason}
	}
	if cert.CertType != gossh.UserCert {
		return refuse("not a user certificate", "not a user certificate")
	}
	checker := gossh.CertChecker{Clock: func() time.Time { return now }}
	if err := checker.CheckCert(user, cert); err != nil {
		return refuse(certClass(err.Error()), fmt.Sprintf("serial=%d: %s", cert.Serial, err.Error()))
	}
	if len(cert.ValidPrincipals) != 1 {
		return refuse("with other principals", fmt.Sprintf("serial=%d: it names %d principals", cert.Serial, len(cert.ValidPrincipals)))
	}
	if _, why := d.certs.Standing(cert.Serial); why != "" {
		class := "no longer standing"
		if strings.Contains(why, "revoked") {
			class = "revoked"
		}
		return refuse(class, fmt.Sprintf("serial=%d: %s", cert.Serial, why))
	}
	ext := map[string]string{
		extUser:   user,
		extAuth:   fmt.Sprintf("gateway certificate id=%q serial=%d", cert.KeyId, cert.Serial),
		extSerial: strconv.FormatUint(cert.Serial, 10),
		extRoles:  cert.Extensions[sshcaExtRoles],
	}
	if _, ok := cert.Extensions["permit-pty"]; !ok {
		ext[extNoPTY] = "1"
	}
	return &gossh.Permissions{Extensions: ext}, refusal{}
}

// sshcaExtRoles is the extension the gateway's CA writes the roles in
// (sshca.ExtRoles; sshd does not import the CA).
const sshcaExtRoles = "roles@bmcgate"

// certClass turns a CertChecker error into a stable class.
func certClass(msg string) string {
	for _, c := range []string{"expired", "not yet valid", "principal", "critical option", "signature"} {
		if strings.Contains(msg, c) {
			return c
		}
	}
	return "invalid"
}

// checkSourceAddress enforces a certificate's source-address option: a
// comma-separated list of addresses or CIDR blocks.
func checkSourceAddress(remote net.Addr, list string) error {
	tcp, ok := remote.(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("source-address: remote address is not TCP")
	}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if _, n, err := net.ParseCIDR(s); err == nil {
			if n.Contains(tcp.IP) {
				return nil
			}
			continue
		}
		if ip := net.ParseIP(s); ip != nil && ip.Equal(tcp.IP) {
			return nil
		}
	}
	return fmt.Errorf("source-address: %s is not in %q", tcp.IP, list)
}

// publicKeyHandler is the only authentication method. For every key the
// client offers, it records the outcome on the connection context and, on
// success, installs a fresh Permissions value carrying the identity. The
// ssh library returns that value as the connection's Permissions only for
// the key whose signature was actually verified.
//
// Every refusal is kept on the connection (bounded), for the audit record
// of a failed login, or of a login that succeeded with a later key.
func (s *Server) publicKeyHandler(ctx ssh.Context, key ssh.PublicKey) bool {
	d := s.dir.Load()
	now := s.now()
	perms, why := d.checkKey(ctx.User(), key, ctx.RemoteAddr(), now)
	if perms != nil && d.revokedKeys != "" {
		why = s.revocationsFor(d.revokedKeys).check(key, now)
	}
	if why.class != "" {
		if st, ok := ctx.Value(ctxKeyConn).(*connState); ok {
			st.keyRefused(why)
		}
		return false
	}
	ctx.SetValue(ssh.ContextKeyPermissions, &ssh.Permissions{Permissions: perms})
	return true
}

// revocationsFor returns the watcher of the revoked-keys file at path,
// keeping the loaded file across directory swaps that name the same path.
func (s *Server) revocationsFor(path string) *revocations {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil || s.revoked.path != path {
		s.revoked = newRevocations(path, s.log)
	}
	return s.revoked
}

// identity reads the verified identity of an established connection.
func identity(conn *gossh.ServerConn) (user, auth, force string, ok bool) {
	if conn == nil || conn.Permissions == nil {
		return "", "", "", false
	}
	e := conn.Permissions.Extensions
	user, ok = e[extUser]
	return user, e[extAuth], e[extForceCommand], ok && user != "" && user == conn.User()
}

// callerIdentity is the service identity of an established connection's
// verified key: a users[] account, or a single sign-on user with a
// gateway certificate.
func callerIdentity(conn *gossh.ServerConn, user string) service.Identity {
	e := conn.Permissions.Extensions
	serial, err := strconv.ParseUint(e[extSerial], 10, 64)
	if e[extSerial] == "" || err != nil {
		return service.Identity{Name: user, Source: service.SourceUser}
	}
	var roles []string
	for r := range strings.SplitSeq(e[extRoles], ",") {
		if r != "" {
			roles = append(roles, r)
		}
	}
	return service.Identity{Name: user, Source: service.SourceCert, CertSerial: serial, CertRoles: roles}
}

// ptyAllowed reports whether the verified key of conn may have a terminal.
func ptyAllowed(conn *gossh.ServerConn) bool {
	return conn != nil && conn.Permissions != nil && conn.Permissions.Extensions[extNoPTY] == ""
}
