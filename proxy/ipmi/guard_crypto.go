package ipmi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"

	"github.com/bmcgate/bmcgate/internal/rmcp"
)

// Session-layer cryptography of the guard (IPMI 2.0 sections 13.28, 13.29):
// AES-CBC-128 with K2 for confidentiality and HMAC with K1 for integrity.
// The cipher and the keyed hash are made once per session; the hash is
// used under g.mu only.

var errNoSessionKey = errors.New("no session key")

// sessionCrypto returns the session's AES block cipher, its keyed integrity
// hash and the AuthCode length, making them on first use. g.mu is held.
func (g *guard) sessionCrypto() (cipher.Block, hash.Hash, int, error) {
	if g.block == nil {
		if g.state != gsActive || len(g.k2) != 16 || len(g.k1) == 0 {
			return nil, nil, 0, errNoSessionKey
		}
		var h func() hash.Hash
		switch g.want.integ {
		case integHMACSHA1_96:
			h = sha1.New
		case integHMACSHA256128:
			h = sha256.New
		default:
			return nil, nil, 0, errors.New("unsupported integrity algorithm")
		}
		b, err := aes.NewCipher(g.k2)
		if err != nil {
			return nil, nil, 0, err
		}
		g.block, g.mac = b, hmac.New(h, g.k1)
	}
	return g.block, g.mac, authCodeLen(g.want.integ), nil
}

// authCode computes the AuthCode of the integrity data (auth type through
// next header) into g.macSum and returns its first n bytes. g.mu is held.
func (g *guard) authCode(mac hash.Hash, data []byte, n int) []byte {
	mac.Reset()
	mac.Write(data)
	return mac.Sum(g.macSum[:0])[:n]
}

// freshIV gives an outbound encrypted packet a new, unpredictable AES-CBC
// initialization vector and the guard's session sequence number, in place,
// and signs it again. go-ipmi v0.9.1 draws its IVs from math/rand seeded
// with the current second, so every packet sent within one second carries
// the same, guessable IV: identical keystrokes on a console would encrypt
// identically, and CBC with predictable IVs is open to chosen-plaintext
// guessing. The guard knows the session keys (it derives them to verify the
// BMC), so it decrypts the payload with the library's IV, encrypts it again
// under an IV from crypto/rand and signs the packet with K1. The sequence
// number is the guard's because the guard sends SOL packets of its own in
// the same session (SOLConn). The BMC sees an ordinary, correctly
// authenticated packet. g.mu is held.
func (g *guard) freshIV(b []byte, h v2Packet) error {
	blk, mac, n, err := g.sessionCrypto()
	if err != nil {
		return err
	}
	p := h.payload
	if len(p) < 32 || len(p)%16 != 0 {
		return errors.New("payload is not AES-CBC-128 (IV and whole blocks)")
	}
	if len(b) < rmcp.V2HeaderLen+len(p)+n {
		return errors.New("no integrity AuthCode")
	}
	cipher.NewCBCDecrypter(blk, p[:16]).CryptBlocks(p[16:], p[16:])
	if _, err := rand.Read(p[:16]); err != nil {
		return err
	}
	cipher.NewCBCEncrypter(blk, p[:16]).CryptBlocks(p[16:], p[16:])
	binary.LittleEndian.PutUint32(b[10:14], g.nextSeq())
	copy(b[len(b)-n:], g.authCode(mac, b[rmcp.HeaderLen:len(b)-n], n))
	return nil
}

// nextSeq returns the next outbound session sequence number: one count for
// the library's packets and the guard's own, starting at 1, never 0.
func (g *guard) nextSeq() uint32 {
	g.outSeq++
	if g.outSeq == 0 {
		g.outSeq = 1
	}
	return g.outSeq
}

// seal builds an authenticated, encrypted session packet of the given
// payload type carrying plain, appended to dst[:0]. g.mu is held.
func (g *guard) seal(dst []byte, payloadType uint8, plain []byte) ([]byte, error) {
	blk, mac, n, err := g.sessionCrypto()
	if err != nil {
		return nil, err
	}
	confPad := (16 - (len(plain)+1)%16) % 16
	encLen := 16 + len(plain) + confPad + 1
	if encLen > 0xffff {
		return nil, errors.New("payload too large")
	}
	// The integrity data (auth type through next header) is whole DWORDs.
	intPad := (4 - (12+encLen+2)%4) % 4
	total := rmcp.V2HeaderLen + encLen + intPad + 2 + n
	b := dst[:0]
	if cap(b) < total {
		b = make([]byte, 0, total)
	}
	b = b[:total] // every byte is written below
	b[0], b[1], b[2], b[3] = rmcp.Version, 0x00, 0xff, rmcp.ClassIPMI
	b[4] = rmcp.AuthTypeRMCPPlus
	b[5] = payloadType | rmcp.FlagEncrypted | rmcp.FlagAuthenticated
	binary.LittleEndian.PutUint32(b[6:10], g.bmcID)
	binary.LittleEndian.PutUint32(b[10:14], g.nextSeq())
	binary.LittleEndian.PutUint16(b[14:16], uint16(encLen))
	p := b[rmcp.V2HeaderLen : rmcp.V2HeaderLen+encLen]
	if _, err := rand.Read(p[:16]); err != nil {
		return nil, err
	}
	copy(p[16:], plain)
	for i := range confPad {
		p[16+len(plain)+i] = byte(i + 1)
	}
	p[encLen-1] = byte(confPad)
	cipher.NewCBCEncrypter(blk, p[:16]).CryptBlocks(p[16:], p[16:])
	t := b[rmcp.V2HeaderLen+encLen:]
	for i := range intPad {
		t[i] = 0xff
	}
	t[intPad], t[intPad+1] = byte(intPad), rmcp.NextHeaderIPMI
	copy(b[total-n:], g.authCode(mac, b[rmcp.HeaderLen:total-n], n))
	return b, nil
}

// open decrypts, in place, the payload of a session packet that inbound
// accepted (authenticated, signed, not replayed) and returns the plaintext
// without its confidentiality trailer.
func (g *guard) open(pkt []byte) ([]byte, error) {
	h, ok := parseV2(pkt)
	if !ok || len(h.payload) < 32 || len(h.payload)%16 != 0 {
		return nil, errors.New("malformed session packet")
	}
	g.mu.Lock()
	blk, _, _, err := g.sessionCrypto()
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p := h.payload
	cipher.NewCBCDecrypter(blk, p[:16]).CryptBlocks(p[16:], p[16:])
	pt := p[16:]
	pad := int(pt[len(pt)-1])
	if pad > 15 || pad+1 > len(pt) {
		return nil, errors.New("bad confidentiality pad")
	}
	body := pt[:len(pt)-1-pad]
	for i, c := range pt[len(body) : len(pt)-1] {
		if int(c) != i+1 {
			return nil, errors.New("bad confidentiality pad")
		}
	}
	return body, nil
}
