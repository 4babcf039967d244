package configs

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// BreakGlassUser is a local web account for when the identity provider is
// down: an argon2id password hash (made by "bmcgate passwd") plus a TOTP
// second factor (RFC 6238). Every attempt is audited and marked as
// break-glass.
type BreakGlassUser struct {
	Name string `yaml:"name"`
	// PasswordHash is "$argon2id$v=19$m=...,t=...,p=...$SALT$HASH".
	PasswordHash string `yaml:"password_hash"`
	// Exactly one of TOTPSecretFile and TOTPSecretEnv: the base32 TOTP
	// secret (at least 128 bits). A file must be readable by its owner only.
	TOTPSecretFile string   `yaml:"totp_secret_file"`
	TOTPSecretEnv  string   `yaml:"totp_secret_env"`
	Roles          []string `yaml:"roles"`
	Disabled       bool     `yaml:"disabled"`

	totpSecret []byte
}

// TOTPSecret returns the decoded TOTP key resolved at load time (nil with
// LoadOptions.SkipSecrets). The caller must not modify it.
func (u BreakGlassUser) TOTPSecret() []byte { return u.totpSecret }

// Argon2Params are the parameters and values of a parsed argon2id hash.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	Salt    []byte
	Hash    []byte
}

// Bounds on argon2id parameters accepted from the config: a hash cheaper
// than the lower bounds is too easy to crack; one above the upper bounds
// would let a login attempt exhaust the gateway.
const (
	minArgonMemory = 8 << 10   // 8 MiB
	maxArgonMemory = 512 << 10 // 512 MiB
	maxArgonTime   = 20
	maxArgonLanes  = 16
	minSaltLen     = 16
	minHashLen     = 16
	minTOTPKeyLen  = 16 // 128 bits (RFC 4226 section 4)
)

// ParseArgon2id parses a PHC-format argon2id hash string and checks its
// parameters are within bmcgate's bounds. Errors never quote the string.
func ParseArgon2id(s string) (Argon2Params, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, fmt.Errorf("not an argon2id hash: make one with \"bmcgate passwd\"")
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("only argon2id hashes are accepted: make one with \"bmcgate passwd\"")
	}
	if parts[2] != "v=19" {
		return p, fmt.Errorf("unsupported argon2 version: want v=19")
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, val, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 10, 32)
		if !ok || err != nil {
			return p, fmt.Errorf("bad argon2id parameters: want m=KiB,t=N,p=N")
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, fmt.Errorf("argon2id parallelism must be 1 to %d", maxArgonLanes)
			}
			p.Threads = uint8(n)
		default:
			return p, fmt.Errorf("bad argon2id parameters: want m=KiB,t=N,p=N")
		}
	}
	switch {
	case p.Memory < minArgonMemory || p.Memory > maxArgonMemory:
		return p, fmt.Errorf("argon2id memory must be %d to %d KiB", minArgonMemory, maxArgonMemory)
	case p.Time < 1 || p.Time > maxArgonTime:
		return p, fmt.Errorf("argon2id time must be 1 to %d", maxArgonTime)
	case p.Threads < 1 || p.Threads > maxArgonLanes:
		return p, fmt.Errorf("argon2id parallelism must be 1 to %d", maxArgonLanes)
	}
	var err error
	if p.Salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.Salt) < minSaltLen {
		return p, fmt.Errorf("argon2id salt must be at least %d bytes of unpadded base64", minSaltLen)
	}
	if p.Hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.Hash) < minHashLen {
		return p, fmt.Errorf("argon2id hash must be at least %d bytes of unpadded base64", minHashLen)
	}
	return p, nil
}

// DecodeTOTPSecret decodes a base32 TOTP secret as authenticator apps show
// it: case and spaces ignored, padding optional. It must hold at least 128
// bits.
func DecodeTOTPSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the TOTP secret is not base32")
	}
	if len(key) < minTOTPKeyLen {
		return nil, fmt.Errorf("the TOTP secret is shorter than %d bits", minTOTPKeyLen*8)
	}
	return key, nil
}

// breakGlass checks web.break_glass and reads the TOTP secrets. It reports
// whether at least one enabled account is configured.
func (v *validator) breakGlass(roles map[string]bool) bool {
	usable := false
	first := map[string]string{}
	for i := range v.c.Web.BreakGlass {
		u := &v.c.Web.BreakGlass[i]
		field := indexPath("web.break_glass", i)
		v.entryName(first, field, u.Name, "user name", "break-glass user")
		if u.PasswordHash == "" {
			v.probs.add(fieldPath(field, "password_hash"), "required: make one with \"bmcgate passwd\"")
		} else if _, err := ParseArgon2id(u.PasswordHash); err != nil {
			v.probs.add(fieldPath(field, "password_hash"), "%v", err)
		}
		v.totpSource(field, u)
		if len(u.Roles) == 0 {
			v.probs.add(fieldPath(field, "roles"), "list at least one role")
		}
		v.roleList(fieldPath(field, "roles"), u.Roles, roles)
		usable = usable || !u.Disabled
	}
	return usable
}

// totpSource checks that exactly one TOTP secret source is set and reads it.
func (v *validator) totpSource(field string, u *BreakGlassUser) {
	var get func() (string, error)
	var f string
	switch {
	case u.TOTPSecretFile != "" && u.TOTPSecretEnv != "":
		v.probs.add(fieldPath(field, "totp_secret_env"), "set only one of totp_secret_file and totp_secret_env")
		return
	case u.TOTPSecretFile != "":
		u.TOTPSecretFile = v.resolve(u.TOTPSecretFile)
		f = fieldPath(field, "totp_secret_file")
		get = func() (string, error) { return readPasswordFile(u.TOTPSecretFile) }
	case u.TOTPSecretEnv != "":
		f = fieldPath(field, "totp_secret_env")
		if !validEnvName(u.TOTPSecretEnv) {
			v.probs.add(f, "not a valid environment variable name (letters, digits and '_', not starting with a digit)")
			return
		}
		get = func() (string, error) { return readPasswordEnv(u.TOTPSecretEnv) }
	default:
		v.probs.add(field, "no TOTP secret: set totp_secret_file or totp_secret_env (break-glass accounts need a second factor)")
		return
	}
	if v.opts.SkipSecrets {
		return
	}
	s, err := get()
	if err != nil {
		v.probs.add(f, "%v", err)
		return
	}
	key, err := DecodeTOTPSecret(s)
	if err != nil {
		v.probs.add(f, "%v", err)
		return
	}
	u.totpSecret = key
}
