package configs

import (
	"bytes"
	"crypto/rsa"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// minRSABits is the smallest RSA key accepted.
const minRSABits = 2048

// algoDSA is the SSH name of DSA keys, which are always refused.
const algoDSA = "ssh-dss"

// parseUserKey parses one authorized_keys line naming a user's key. It
// returns the key, or a message saying why the line is refused.
func parseUserKey(text string) (ssh.PublicKey, string) {
	k, options, msg := parseKeyLine(text)
	if msg != "" {
		return nil, msg
	}
	if len(options) > 0 {
		return nil, fmt.Sprintf("key options (%s) are not supported: bmcgate would ignore them", optionNames(options))
	}
	if _, ok := k.(*ssh.Certificate); ok {
		return nil, "is a certificate, not a public key: list the plain key, or add the CA to ssh.user_ca_keys"
	}
	return k, ""
}

// parseCAKey parses one authorized_keys line naming a user CA. The only
// option allowed is cert-authority.
func parseCAKey(text string) (ssh.PublicKey, string) {
	k, options, msg := parseKeyLine(text)
	if msg != "" {
		return nil, msg
	}
	for _, o := range options {
		if o != "cert-authority" {
			return nil, fmt.Sprintf("key options (%s) are not supported: only cert-authority is allowed", optionNames(options))
		}
	}
	if _, ok := k.(*ssh.Certificate); ok {
		return nil, "is a certificate, not a CA public key"
	}
	return k, ""
}

// parseKeyLine parses one authorized_keys line and refuses weak keys.
func parseKeyLine(text string) (ssh.PublicKey, []string, string) {
	k, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		if hasField(text, algoDSA) {
			return nil, nil, "DSA keys are refused: they are weak; use an ed25519 key"
		}
		return nil, nil, "not a public key in authorized_keys format (\"ssh-ed25519 AAAA... comment\")"
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, nil, "holds more than one line: list each key as its own entry"
	}
	if msg := WeakKey(k); msg != "" {
		return nil, nil, msg
	}
	return k, options, ""
}

// WeakKey says why k (for a certificate: the certified key) is too weak
// to log in with or to sign with, or returns "": DSA, and RSA under 2048
// bits, are refused. The SSH door applies it to certificates at login.
func WeakKey(k ssh.PublicKey) string {
	pub := k
	if cert, ok := k.(*ssh.Certificate); ok {
		pub = cert.Key
	}
	switch pub.Type() {
	case algoDSA:
		return "DSA keys are refused: they are weak; use an ed25519 key"
	case ssh.KeyAlgoRSA:
		ck, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			return "cannot read the RSA key"
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return "cannot read the RSA key"
		}
		if bits := rk.N.BitLen(); bits < minRSABits {
			return fmt.Sprintf("RSA key of %d bits is too weak: use at least %d bits, or an ed25519 key", bits, minRSABits)
		}
	}
	return ""
}

// hasField reports whether f is one of the whitespace-separated fields of s.
func hasField(s, f string) bool {
	for _, x := range strings.Fields(s) {
		if x == f {
			return true
		}
	}
	return false
}

// optionNames lists the names of authorized_keys options, without values.
func optionNames(options []string) string {
	names := make([]string, len(options))
	for i, o := range options {
		names[i], _, _ = strings.Cut(o, "=")
	}
	return strings.Join(names, ", ")
}
