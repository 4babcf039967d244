package ipmi

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Algorithm identifiers of the RMCP+ Open Session payloads (IPMI 2.0
// tables 13-17 to 13-19).
const (
	authNone       = 0x00
	authHMACSHA1   = 0x01
	authHMACMD5    = 0x02
	authHMACSHA256 = 0x03

	integNone          = 0x00
	integHMACSHA1_96   = 0x01
	integHMACMD5_128   = 0x02
	integMD5_128       = 0x03
	integHMACSHA256128 = 0x04

	confNone      = 0x00
	confAESCBC128 = 0x01
	confXRC4_128  = 0x02
	confXRC4_40   = 0x03
)

// algorithms is one authentication/integrity/confidentiality triple.
type algorithms struct {
	auth, integ, conf uint8
}

// suiteAlgorithms returns the triple of an allowed cipher suite.
func suiteAlgorithms(suite int) (algorithms, bool) {
	switch suite {
	case 3:
		return algorithms{authHMACSHA1, integHMACSHA1_96, confAESCBC128}, true
	case 17:
		return algorithms{authHMACSHA256, integHMACSHA256128, confAESCBC128}, true
	}
	return algorithms{}, false
}

// weak reports whether any algorithm of a is "none" or RC4.
func (a algorithms) weak() bool {
	return a.auth == authNone || a.integ == integNone || a.conf == confNone ||
		a.conf == confXRC4_128 || a.conf == confXRC4_40
}

func (a algorithms) String() string {
	return authName(a.auth) + "/" + integName(a.integ) + "/" + confName(a.conf)
}

func authName(v uint8) string {
	switch v {
	case authNone:
		return "none"
	case authHMACSHA1:
		return "RAKP-HMAC-SHA1"
	case authHMACMD5:
		return "RAKP-HMAC-MD5"
	case authHMACSHA256:
		return "RAKP-HMAC-SHA256"
	}
	return fmt.Sprintf("auth-0x%02x", v)
}

func integName(v uint8) string {
	switch v {
	case integNone:
		return "none"
	case integHMACSHA1_96:
		return "HMAC-SHA1-96"
	case integHMACMD5_128:
		return "HMAC-MD5-128"
	case integMD5_128:
		return "MD5-128"
	case integHMACSHA256128:
		return "HMAC-SHA256-128"
	}
	return fmt.Sprintf("integrity-0x%02x", v)
}

func confName(v uint8) string {
	switch v {
	case confNone:
		return "none"
	case confAESCBC128:
		return "AES-CBC-128"
	case confXRC4_128:
		return "xRC4-128"
	case confXRC4_40:
		return "xRC4-40"
	}
	return fmt.Sprintf("confidentiality-0x%02x", v)
}

// authCodeLen is the AuthCode length of the session trailer for an
// integrity algorithm.
func authCodeLen(integ uint8) int {
	switch integ {
	case integHMACSHA1_96:
		return 12
	case integHMACSHA256128:
		return 16
	}
	return 0
}

// digest is a keyed SHA-256 of s, used to compare secrets without keeping
// them in comparable keys.
func digest(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
