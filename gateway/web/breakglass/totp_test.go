package breakglass

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
	"testing"
	"time"
)

// TestRFC6238Vectors checks the test vectors of RFC 6238 appendix B (8
// digits; SHA-1, SHA-256 and SHA-512 with their 20, 32 and 64 byte keys).
func TestRFC6238Vectors(t *testing.T) {
	keys := map[string][]byte{
		"SHA1":   []byte("12345678901234567890"),
		"SHA256": []byte("12345678901234567890123456789012"),
		"SHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	hashes := map[string]func() hash.Hash{"SHA1": sha1.New, "SHA256": sha256.New, "SHA512": sha512.New}
	vectors := []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, v := range vectors {
		tt := TOTP{Key: keys[v.alg], Digits: 8, Hash: hashes[v.alg]}
		now := time.Unix(v.unix, 0)
		if got := tt.Code(tt.Step(now)); got != v.want {
			t.Errorf("%s at %d: %s, want %s", v.alg, v.unix, got, v.want)
		}
		if _, ok := tt.Verify(v.want, now, 0); !ok {
			t.Errorf("%s at %d: Verify refused the right code", v.alg, v.unix)
		}
	}
}

func TestTOTPVerify(t *testing.T) {
	tt := TOTP{Key: []byte("12345678901234567890"), Skew: 1}
	now := time.Unix(1234567890, 0)
	cur := tt.Step(now)
	tests := []struct {
		name     string
		code     string
		lastUsed uint64
		want     bool
		step     uint64
	}{
		{"current", tt.Code(cur), 0, true, cur},
		{"previous within skew", tt.Code(cur - 1), 0, true, cur - 1},
		{"next within skew", tt.Code(cur + 1), 0, true, cur + 1},
		{"two back", tt.Code(cur - 2), 0, false, 0},
		{"replay of current", tt.Code(cur), cur, false, 0},
		{"older than last used", tt.Code(cur - 1), cur, false, 0},
		{"newer than last used", tt.Code(cur + 1), cur, true, cur + 1},
		{"wrong length", tt.Code(cur)[:5], 0, false, 0},
		{"not digits", "abcdef", 0, false, 0},
		{"empty", "", 0, false, 0},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			step, ok := tt.Verify(c.code, now, c.lastUsed)
			if ok != c.want || ok && step != c.step {
				t.Fatalf("Verify = %d, %v; want %d, %v", step, ok, c.step, c.want)
			}
		})
	}
	if _, ok := (TOTP{}).Verify("000000", now, 0); ok {
		t.Error("a TOTP without a key accepted a code")
	}
}

func TestNewKeyAndURI(t *testing.T) {
	key, b32, err := NewKey()
	if err != nil || len(key) != 20 || len(b32) != 32 {
		t.Fatalf("NewKey = %d bytes, %q, %v", len(key), b32, err)
	}
	u := OTPAuthURI("bmcgate", "bg-alice", key)
	if !strings.HasPrefix(u, "otpauth://totp/bmcgate:bg-alice?") || !strings.Contains(u, "secret="+b32) {
		t.Errorf("uri %q", u)
	}
}
