package breakglass

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"github.com/bmcgate/bmcgate/configs"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams cost about 64 MiB and a tenth of a second per check: far
// above the OWASP minimum, cheap enough for a handful of logins.
var DefaultParams = Params{Memory: 64 << 10, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 12

// HashPassword hashes password with a new random salt and returns the
// PHC-format string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") that
// the config's password_hash field takes.
func HashPassword(password []byte, p Params) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("the password is shorter than %d characters", MinPasswordLen)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	s := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if _, err := configs.ParseArgon2id(s); err != nil {
		return "", fmt.Errorf("parameters out of bounds: %w", err)
	}
	return s, nil
}

// Hash is a parsed password hash, ready to verify passwords against.
type Hash struct {
	p configs.Argon2Params
}

// ParseHash parses a PHC-format argon2id string.
func ParseHash(encoded string) (Hash, error) {
	p, err := configs.ParseArgon2id(encoded)
	if err != nil {
		return Hash{}, err
	}
	return Hash{p: p}, nil
}

// Verify reports whether password matches, in time independent of where
// the two differ. The zero Hash matches nothing, but costs the same as a
// real one when given as a decoy (see Decoy).
func (h Hash) Verify(password []byte) bool {
	p := h.p
	if p.Memory == 0 {
		return false
	}
	key := argon2.IDKey(password, p.Salt, p.Time, p.Memory, p.Threads, uint32(len(p.Hash)))
	return subtle.ConstantTimeCompare(key, p.Hash) == 1
}

// Decoy returns a hash with DefaultParams that no password matches, to
// spend the same time on an unknown user as on a known one.
func Decoy() Hash {
	salt := make([]byte, DefaultParams.SaltLen)
	_, _ = rand.Read(salt)
	want := make([]byte, DefaultParams.KeyLen)
	_, _ = rand.Read(want)
	return Hash{p: configs.Argon2Params{Memory: DefaultParams.Memory, Time: DefaultParams.Time,
		Threads: DefaultParams.Threads, Salt: salt, Hash: want}}
}
