package ipmi

import (
	"crypto/rand"
	"errors"

	"github.com/bougou/go-ipmi/pkg/crypto"
	"github.com/bougou/go-ipmi/pkg/types"
)

// freshIV gives an outbound encrypted packet a new, unpredictable AES-CBC
// initialization vector, in place. go-ipmi v0.9.1 draws its IVs from
// math/rand seeded with the current second, so every packet sent within
// one second carries the same, guessable IV: identical keystrokes on a
// console would encrypt identically, and CBC with predictable IVs is open
// to chosen-plaintext guessing. The guard knows the session keys (it
// derives them to verify the BMC), so it decrypts the payload with the
// library's IV, encrypts it again under an IV from crypto/rand and signs
// the packet again with K1. The BMC sees an ordinary, correctly
// authenticated packet.
func (g *guard) freshIV(b []byte, h v2Packet) error {
	if len(g.k2) != 16 || len(g.k1) == 0 {
		return errors.New("no session key")
	}
	p := h.payload
	if len(p) < 32 || len(p)%16 != 0 {
		return errors.New("payload is not AES-CBC-128 (IV and whole blocks)")
	}
	n := authCodeLen(g.want.integ)
	if n == 0 || len(b) < rmcpHeaderLen+n {
		return errors.New("no integrity AuthCode")
	}
	plain, err := crypto.DecryptAES(p[16:], g.k2, p[:16])
	if err != nil {
		return err
	}
	var iv [16]byte
	if _, err := rand.Read(iv[:]); err != nil {
		return err
	}
	ct, err := crypto.EncryptAES(plain, g.k2, iv[:])
	if err != nil {
		return err
	}
	copy(p[:16], iv[:])
	copy(p[16:], ct)
	mac, err := crypto.SessionIntegrityAuthCode(types.IntegrityAlg(g.want.integ), b[rmcpHeaderLen:len(b)-n], g.k1, "")
	if err != nil || len(mac) != n {
		return errors.New("could not sign the packet")
	}
	copy(b[len(b)-n:], mac)
	return nil
}
