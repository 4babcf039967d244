package configs

import (
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSHAlgorithms are the algorithm lists the SSH front door offers, each in
// order of preference.
type SSHAlgorithms struct {
	KeyExchanges []string
	Ciphers      []string
	MACs         []string
	HostKeys     []string
}

// DefaultSSHAlgorithms returns the lists used for the ssh.* algorithm keys
// the file leaves out: post-quantum hybrid and X25519 key exchange with a
// 4096-bit DH group as the fallback for clients without curves; AEAD
// ciphers first, then AES-CTR; encrypt-then-MAC SHA-2 MACs only (the MAC
// is checked before anything is decrypted; every OpenSSH since 6.2 has
// them, and AEAD ciphers need no MAC at all); Ed25519 and SHA-2 RSA host
// key signatures. Nothing SHA-1, CBC, RC4 or NIST-curve.
func DefaultSSHAlgorithms() SSHAlgorithms {
	return SSHAlgorithms{
		KeyExchanges: []string{ssh.KeyExchangeMLKEM768X25519, ssh.KeyExchangeCurve25519, ssh.KeyExchangeDH16SHA512},
		Ciphers: []string{ssh.CipherChaCha20Poly1305, ssh.CipherAES256GCM, ssh.CipherAES128GCM,
			ssh.CipherAES256CTR, ssh.CipherAES192CTR, ssh.CipherAES128CTR},
		MACs:     []string{ssh.HMACSHA512ETM, ssh.HMACSHA256ETM},
		HostKeys: []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256},
	}
}

// Algorithms returns the front door's algorithm lists (defaults filled in
// by Load).
func (s SSH) Algorithms() SSHAlgorithms {
	return SSHAlgorithms{
		KeyExchanges: slices.Clone(s.KexAlgorithms),
		Ciphers:      slices.Clone(s.Ciphers),
		MACs:         slices.Clone(s.MACs),
		HostKeys:     slices.Clone(s.HostKeyAlgorithms),
	}
}

// sshHostKeyAlgorithms are the host key signature algorithms a
// host_key_algorithms list may name (host certificates are not offered).
var sshHostKeyAlgorithms = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
}

// algorithmList is one ssh.* algorithm key: its default, what may be named
// and what is refused as weak.
type algorithmList struct {
	name      string
	v         *[]string
	def       []string
	supported []string
	insecure  []string
}

// sshAlgorithms checks the ssh.* algorithm lists and fills in the defaults.
func (v *validator) sshAlgorithms() {
	s := &v.c.SSH
	def := DefaultSSHAlgorithms()
	sup, bad := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	lists := []algorithmList{
		{"kex_algorithms", &s.KexAlgorithms, def.KeyExchanges, sup.KeyExchanges, bad.KeyExchanges},
		{"ciphers", &s.Ciphers, def.Ciphers, sup.Ciphers, bad.Ciphers},
		{"macs", &s.MACs, def.MACs, sup.MACs, bad.MACs},
		{"host_key_algorithms", &s.HostKeyAlgorithms, def.HostKeys, sshHostKeyAlgorithms, bad.HostKeys},
	}
	for _, l := range lists {
		field := fieldPath("ssh", l.name)
		if !v.present(field) {
			*l.v = l.def
			continue
		}
		if len(*l.v) == 0 {
			v.probs.add(field, "must not be empty: leave it out for the default (%s)", strings.Join(l.def, ", "))
			continue
		}
		seen := map[string]bool{}
		for i, name := range *l.v {
			f := indexPath(field, i)
			switch {
			case seen[name]:
				v.probs.add(f, "%q is listed twice", name)
			case weakAlgorithm(name, l.insecure) != "":
				v.probs.add(f, "%q is refused: %s", name, weakAlgorithm(name, l.insecure))
			case !slices.Contains(l.supported, name):
				v.probs.add(f, "unknown algorithm %q: use one of %s", name, strings.Join(allowedAlgorithms(l.supported), ", "))
			}
			seen[name] = true
		}
	}
}

// weakAlgorithm says why an algorithm is refused, or returns "".
func weakAlgorithm(name string, insecure []string) string {
	switch {
	case strings.Contains(name, "sha1"), name == ssh.KeyAlgoRSA, name == ssh.CertAlgoRSAv01:
		return "it uses SHA-1"
	case strings.HasSuffix(name, "-cbc"):
		return "CBC mode is weak in SSH"
	case strings.HasPrefix(name, "arcfour"):
		return "RC4 is broken"
	case name == algoDSA:
		return "DSA is weak"
	case name == "none":
		return "no protection at all"
	case slices.Contains(insecure, name):
		return "the SSH library marks it insecure"
	}
	return ""
}

// allowedAlgorithms is supported without the weak ones, for messages.
func allowedAlgorithms(supported []string) []string {
	var out []string
	for _, a := range supported {
		if weakAlgorithm(a, nil) == "" {
			out = append(out, a)
		}
	}
	return out
}
