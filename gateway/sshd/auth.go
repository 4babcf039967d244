package sshd

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// User is an account that may log in over SSH: its name and keys. What it
// may do is not here: core resolves the account's roles under the current
// config at every decision.
type User struct {
	Name     string
	Keys     []gossh.PublicKey
	Disabled bool
}

// Directory is the immutable set of SSH users and trusted user CAs. A
// config reload installs a new one.
type Directory struct {
	users map[string]*User
	keys  map[string]map[string]bool // user -> marshalled key -> true
	cas   []gossh.PublicKey
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
)

// Context keys for values the auth callbacks leave for the failure audit.
var (
	ctxKeyAuthFail = &struct{ name string }{"auth-fail"}
)

// supportedCriticalOptions are the certificate critical options bmcgate
// honours; a certificate with any other critical option is refused, as the
// certificate format requires.
var supportedCriticalOptions = []string{"force-command", "source-address"}

// checkKey decides whether key may log in as user. It returns the
// permissions to attach to this key (its identity) or a reason for refusal
// that is recorded in the audit log (never shown to the client).
func (d *Directory) checkKey(user string, key gossh.PublicKey, remote net.Addr, now time.Time) (*gossh.Permissions, string) {
	u, ok := d.User(user)
	if !ok {
		return nil, "unknown or disabled user"
	}
	if cert, isCert := key.(*gossh.Certificate); isCert {
		return d.checkCert(u, cert, remote, now)
	}
	if !d.keys[u.Name][string(key.Marshal())] {
		return nil, "key not authorized for user " + gossh.FingerprintSHA256(key)
	}
	return &gossh.Permissions{Extensions: map[string]string{
		extUser: u.Name,
		extAuth: "publickey " + gossh.FingerprintSHA256(key),
	}}, ""
}

func (d *Directory) checkCert(u *User, cert *gossh.Certificate, remote net.Addr, now time.Time) (*gossh.Permissions, string) {
	if len(d.cas) == 0 {
		return nil, "certificate offered but no user CA is configured"
	}
	if cert.CertType != gossh.UserCert {
		return nil, "not a user certificate"
	}
	if !d.isCA(cert.SignatureKey) {
		return nil, "certificate signed by an unknown CA " + gossh.FingerprintSHA256(cert.SignatureKey)
	}
	checker := gossh.CertChecker{
		SupportedCriticalOptions: supportedCriticalOptions,
		Clock:                    func() time.Time { return now },
	}
	// CheckCert verifies the CA signature, that the user name is one of
	// the principals, the validity window and the critical options.
	if err := checker.CheckCert(u.Name, cert); err != nil {
		return nil, "certificate refused: " + err.Error()
	}
	if len(cert.ValidPrincipals) == 0 {
		return nil, "certificate has no principals"
	}
	if src, ok := cert.CriticalOptions["source-address"]; ok {
		if err := checkSourceAddress(remote, src); err != nil {
			return nil, "certificate refused: " + err.Error()
		}
	}
	ext := map[string]string{
		extUser: u.Name,
		extAuth: fmt.Sprintf("certificate id=%q serial=%d ca=%s", cert.KeyId, cert.Serial, gossh.FingerprintSHA256(cert.SignatureKey)),
	}
	if fc, ok := cert.CriticalOptions["force-command"]; ok {
		ext[extForceCommand] = fc
	}
	return &gossh.Permissions{Extensions: ext}, ""
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
func (s *Server) publicKeyHandler(ctx ssh.Context, key ssh.PublicKey) bool {
	perms, reason := s.dir.Load().checkKey(ctx.User(), key, ctx.RemoteAddr(), s.now())
	if perms == nil {
		ctx.SetValue(ctxKeyAuthFail, reason)
		return false
	}
	ctx.SetValue(ssh.ContextKeyPermissions, &ssh.Permissions{Permissions: perms})
	return true
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
