package scan

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RAKP-HMAC-SHA1 is what BMCs speak; used only to compare.
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Credential is one vendor default login to test.
type Credential struct {
	Vendor   string `json:"vendor" yaml:"vendor"`
	Username string `json:"username" yaml:"username"`
	Password string `json:"-" yaml:"password"` // never printed
}

// rakpMAC computes the RAKP message 2 HMAC for password over the exchange
// (IPMI 2.0 specification, section 13.31).
func (r *rakp2) rakpMAC(newHash func() hash.Hash, password string) []byte {
	buf := make([]byte, 0, 58+len(r.user))
	buf = binary.LittleEndian.AppendUint32(buf, r.consoleID)
	buf = binary.LittleEndian.AppendUint32(buf, r.bmcID)
	buf = append(buf, r.consoleRand[:]...)
	buf = append(buf, r.bmcRand[:]...)
	buf = append(buf, r.guid[:]...)
	buf = append(buf, r.role, byte(len(r.user)))
	buf = append(buf, r.user...)
	key := make([]byte, 20)
	if len(password) > 20 {
		key = make([]byte, len(password))
	}
	copy(key, password)
	m := hmac.New(newHash, key)
	m.Write(buf)
	return m.Sum(nil)
}

// matches reports whether password produced the BMC's HMAC. suite selects
// the hash (3: SHA-1, 17: SHA-256).
func (r *rakp2) matches(suite int, password string) bool {
	if len(r.mac) == 0 {
		return false
	}
	h := sha1.New
	if suite == 17 {
		h = sha256.New
	}
	return hmac.Equal(r.rakpMAC(h, password)[:len(r.mac)], r.mac)
}

// forget wipes the captured HMAC.
func (r *rakp2) forget() {
	clear(r.mac)
	r.mac = nil
}

// macLen is the RAKP message 2 HMAC length of suite.
func macLen(suite int) int {
	if suite == 0 {
		return 0 // RAKP-none: no HMAC
	}
	if suite == 17 {
		return sha256.Size
	}
	return sha1.Size
}
