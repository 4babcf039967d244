package breakglass

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"time"
)

// TOTP computes and checks time-based one-time passwords (RFC 6238) over
// HOTP (RFC 4226). The zero values of Period, Digits and Hash mean the
// authenticator-app defaults: 30 seconds, 6 digits, HMAC-SHA1.
type TOTP struct {
	Key    []byte
	Period time.Duration
	Digits int
	Hash   func() hash.Hash
	// Skew is how many periods before and after now are accepted, for
	// clock drift and typing time.
	Skew int
}

func (t TOTP) period() time.Duration {
	if t.Period <= 0 {
		return 30 * time.Second
	}
	return t.Period
}

func (t TOTP) digits() int {
	if t.Digits <= 0 {
		return 6
	}
	return t.Digits
}

// Step returns the time step (counter) of now: seconds since the Unix epoch
// divided by the period.
func (t TOTP) Step(now time.Time) uint64 {
	return uint64(now.Unix()) / uint64(t.period()/time.Second)
}

// Code returns the one-time code of a time step.
func (t TOTP) Code(step uint64) string {
	h := t.Hash
	if h == nil {
		h = sha1.New
	}
	mac := hmac.New(h, t.Key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], step)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// Dynamic truncation (RFC 4226 section 5.3).
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range t.digits() {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", t.digits(), bin%mod)
}

// Verify checks code against the steps around now and returns the step it
// matched. Only steps after lastUsed are tried, so a code cannot be used
// twice (RFC 6238 section 5.2): the caller stores the returned step as the
// new lastUsed. Every candidate is compared in constant time.
func (t TOTP) Verify(code string, now time.Time, lastUsed uint64) (uint64, bool) {
	if len(code) != t.digits() || len(t.Key) == 0 {
		return 0, false
	}
	cur := t.Step(now)
	var match uint64
	found := 0
	for d := -t.Skew; d <= t.Skew; d++ {
		if d < 0 && cur < uint64(-d) {
			continue
		}
		s := uint64(int64(cur) + int64(d))
		eq := subtle.ConstantTimeCompare([]byte(t.Code(s)), []byte(code))
		if eq == 1 && s > lastUsed && found == 0 {
			match, found = s, 1
		}
	}
	return match, found == 1
}

// NewKey returns a new random 160-bit TOTP key (the size RFC 4226
// recommends) and its base32 form for authenticator apps.
func NewKey() ([]byte, string, error) {
	key := make([]byte, 20)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("totp key: %w", err)
	}
	return key, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key), nil
}

// OTPAuthURI returns the otpauth:// URI authenticator apps import (often as
// a QR code). It contains the key: treat it as a secret.
func OTPAuthURI(issuer, account string, key []byte) string {
	q := url.Values{}
	q.Set("secret", base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	return u.String()
}
