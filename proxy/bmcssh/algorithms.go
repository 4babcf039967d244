package bmcssh

import (
	"context"
	"errors"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// clientVersion is the SSH identification bmcgate sends.
const clientVersion = "SSH-2.0-bmcgate"

// Algorithms bmcgate offers, in preference order. No SHA-1 (key exchange,
// MAC or signature), no CBC, no RC4: x/crypto's defaults still include
// diffie-hellman-group14-sha1 and hmac-sha1, so the lists are explicit.
var (
	keyExchanges = []string{
		ssh.KeyExchangeMLKEM768X25519,
		ssh.KeyExchangeCurve25519,
		ssh.KeyExchangeECDHP256,
		ssh.KeyExchangeECDHP384,
		ssh.KeyExchangeECDHP521,
		ssh.KeyExchangeDH16SHA512,
		ssh.KeyExchangeDH14SHA256,
		ssh.KeyExchangeDHGEXSHA256,
	}
	ciphers = []string{
		ssh.CipherAES128GCM,
		ssh.CipherAES256GCM,
		ssh.CipherChaCha20Poly1305,
		ssh.CipherAES128CTR,
		ssh.CipherAES192CTR,
		ssh.CipherAES256CTR,
	}
	macs = []string{
		ssh.HMACSHA256ETM,
		ssh.HMACSHA512ETM,
		ssh.HMACSHA256,
		ssh.HMACSHA512,
	}
)

// Offered lists the algorithms a line offers, by kind ("kex", "cipher",
// "mac", "hostkey"), for documentation and for operators comparing with a
// BMC's list.
func Offered() map[string][]string {
	return map[string][]string{
		"kex":     append([]string(nil), keyExchanges...),
		"cipher":  append([]string(nil), ciphers...),
		"mac":     append([]string(nil), macs...),
		"hostkey": append([]string(nil), hostKeyPreference...),
	}
}

func algorithmConfig() ssh.Config {
	return ssh.Config{KeyExchanges: keyExchanges, Ciphers: ciphers, MACs: macs}
}

// clientSigner restricts an RSA client key to SHA-2 signatures (x/crypto
// falls back to SHA-1 "ssh-rsa" with servers that do not announce
// server-sig-algs).
func clientSigner(s ssh.Signer) (ssh.Signer, error) {
	if s.PublicKey().Type() != ssh.KeyAlgoRSA {
		return s, nil
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("the RSA key cannot sign with SHA-2")
	}
	return ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
}

// classifyHandshake turns a failed dial-less handshake into an *Error.
// keyOK says the host key was checked and matched (so a later failure is
// the login's).
func classifyHandshake(ctx context.Context, name string, err error, keyOK bool) error {
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	var neg *ssh.AlgorithmNegotiationError
	if errors.As(err, &neg) {
		return &Error{Kind: KindAlgorithm, BMC: name, Msg: "the BMC's SSH service offers no algorithm bmcgate accepts (it refuses SHA-1, CBC and RC4)", Err: err}
	}
	var ne net.Error
	timedOut := ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout())
	switch {
	case timedOut:
		return &Error{Kind: KindConnect, BMC: name, Msg: "the SSH handshake timed out", Err: err}
	case keyOK && err != nil && (strings.Contains(err.Error(), "unable to authenticate") || strings.Contains(err.Error(), "authentication failures")):
		return &Error{Kind: KindAuth, BMC: name, Msg: "the BMC refused the gateway's SSH credentials", Err: err}
	}
	return &Error{Kind: KindConnect, BMC: name, Msg: "the SSH handshake failed", Err: err}
}
