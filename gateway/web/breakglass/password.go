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
	return decoy(configs.Argon2Params{Memory: DefaultParams.Memory, Time: DefaultParams.Time,
		Threads: DefaultParams.Threads}, int(DefaultParams.SaltLen), int(DefaultParams.KeyLen))
}

// DecoyLike returns a hash no password matches that costs what h costs
// (same memory, passes, lanes, salt and key length): checking a password
// against it takes as long as against h.
func DecoyLike(h Hash) Hash {
	if h.p.Memory == 0 {
		return Decoy()
	}
	return decoy(configs.Argon2Params{Memory: h.p.Memory, Time: h.p.Time, Threads: h.p.Threads}, len(h.p.Salt), len(h.p.Hash))
}

func decoy(p configs.Argon2Params, saltLen, keyLen int) Hash {
	p.Salt = make([]byte, saltLen)
	_, _ = rand.Read(p.Salt)
	p.Hash = make([]byte, keyLen)
	_, _ = rand.Read(p.Hash)
	return Hash{p: p}
}

// Cost reports the hash's argon2id parameters: memory (KiB), passes,
// lanes and key length.
func (h Hash) Cost() (memory, passes uint32, lanes uint8, keyLen int) {
	return h.p.Memory, h.p.Time, h.p.Threads, len(h.p.Hash)
}
