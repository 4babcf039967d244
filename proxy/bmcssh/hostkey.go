package bmcssh

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostKey is the SSH host key pinned for a BMC. Its text form is the
// public key as in an authorized_keys file or the output of ssh-keyscan
// without the host name: "ssh-ed25519 AAAAC3Nza…", optionally followed by a
// comment. The zero HostKey pins nothing (and a line refuses to connect).
type HostKey struct {
	key ssh.PublicKey
}

// minRSABits is the smallest RSA host key accepted.
const minRSABits = 2048

// ParseHostKey reads a pinned host key line.
func ParseHostKey(line string) (HostKey, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return HostKey{}, errors.New("empty host key")
	}
	if strings.HasPrefix(line, "SHA256:") || strings.HasPrefix(line, "MD5:") {
		return HostKey{}, errors.New("a fingerprint is not enough: pin the public key line (\"ssh-ed25519 AAAA…\", as `bmcgate pin --ssh` or ssh-keyscan prints it)")
	}
	if len(line) > 16<<10 {
		return HostKey{}, errors.New("host key line too long")
	}
	k, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return HostKey{}, fmt.Errorf("not a public key line (\"TYPE BASE64 [comment]\"): %w", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return HostKey{}, errors.New("one key per line")
	}
	if err := acceptableHostKey(k); err != nil {
		return HostKey{}, err
	}
	return HostKey{key: k}, nil
}

// acceptableHostKey refuses key types bmcgate never trusts.
func acceptableHostKey(k ssh.PublicKey) error {
	switch k.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return nil
	case ssh.KeyAlgoRSA:
		ck, ok := k.(ssh.CryptoPublicKey)
		if !ok {
			return errors.New("unreadable RSA key")
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok || rk.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA host keys shorter than %d bits are refused", minRSABits)
		}
		return nil
	case "ssh-dss":
		return errors.New("DSA (ssh-dss) host keys are refused: they sign with SHA-1")
	}
	return fmt.Errorf("host key type %s is not supported (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of at least %d bits)", k.Type(), minRSABits)
}

// NewHostKey pins k.
func NewHostKey(k ssh.PublicKey) (HostKey, error) {
	if k == nil {
		return HostKey{}, errors.New("no key")
	}
	if err := acceptableHostKey(k); err != nil {
		return HostKey{}, err
	}
	return HostKey{key: k}, nil
}

// IsZero reports whether no key is pinned.
func (h HostKey) IsZero() bool { return h.key == nil }

// String is the pin line: "TYPE BASE64" ("" for the zero HostKey).
func (h HostKey) String() string {
	if h.key == nil {
		return ""
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.key)))
}

// Fingerprint is the key's SHA256 fingerprint as OpenSSH shows it
// ("SHA256:…"), for comparing with what the BMC displays.
func (h HostKey) Fingerprint() string {
	if h.key == nil {
		return ""
	}
	return ssh.FingerprintSHA256(h.key)
}

// Type is the key's type ("ssh-ed25519", …).
func (h HostKey) Type() string {
	if h.key == nil {
		return ""
	}
	return h.key.Type()
}

// PublicKey returns the pinned key (nil for the zero HostKey).
func (h HostKey) PublicKey() ssh.PublicKey { return h.key }

// Equal reports whether k is the pinned key.
func (h HostKey) Equal(k ssh.PublicKey) bool {
	return h.key != nil && k != nil && bytes.Equal(h.key.Marshal(), k.Marshal())
}

// algorithms are the host key signature algorithms to ask for: those of
// the pinned key's type only, so that a BMC with several host keys shows
// the pinned one.
func (h HostKey) algorithms() []string {
	if h.key == nil {
		return hostKeyPreference
	}
	if h.key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{h.key.Type()}
}

// hostKeyPreference is the order in which FetchHostKey asks for a key.
var hostKeyPreference = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// errGotKey ends FetchHostKey's handshake once the key is known.
var errGotKey = errors.New("bmcssh: host key received")

// FetchHostKey connects to addr (host:port), takes the host key the SSH
// server presents and disconnects before logging in: no credential is
// sent. The key is the one a Line would be shown (ssh-ed25519 first, then
// ECDSA, then RSA with SHA-2 signatures), checked against the same
// algorithm policy. dial may be nil (a net.Dialer). The caller shows the
// fingerprint to the operator, who compares it with the BMC's own display
// before pinning the line (HostKey.String).
func FetchHostKey(ctx context.Context, addr string, dial DialFunc, timeout time.Duration) (HostKey, error) {
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return HostKey{}, &Error{Kind: KindConnect, BMC: addr, Msg: "cannot reach the SSH service", Err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var got ssh.PublicKey
	cfg := &ssh.ClientConfig{
		Config:            algorithmConfig(),
		User:              "bmcgate-pin",
		HostKeyAlgorithms: hostKeyPreference,
		ClientVersion:     clientVersion,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			got = k
			return errGotKey
		},
	}
	_, _, _, err = ssh.NewClientConn(conn, addr, cfg)
	if got == nil {
		return HostKey{}, classifyHandshake(ctx, addr, err, false)
	}
	hk, err := NewHostKey(got)
	if err != nil {
		return HostKey{}, &Error{Kind: KindHostKey, BMC: addr, Msg: "the SSH service's host key is not acceptable", Fingerprint: ssh.FingerprintSHA256(got), Err: err}
	}
	return hk, nil
}
