package breakglass

import (
	"strings"
	"testing"
)

// cheap keeps tests fast: the lowest cost the config accepts.
var cheap = Params{Memory: 8 << 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	pw := []byte("correct horse battery staple")
	s, err := HashPassword(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=8192,t=1,p=1$") || strings.Contains(s, string(pw)) {
		t.Fatalf("hash %q", s)
	}
	other, _ := HashPassword(pw, cheap)
	if other == s {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		if got := h.Verify([]byte(c.pw)); got != c.want {
			t.Errorf("Verify(%q) = %v", c.pw, got)
		}
	}
	if (Hash{}).Verify(pw) {
		t.Error("zero Hash matched")
	}
	if _, err := HashPassword([]byte("short"), cheap); err == nil {
		t.Error("short password hashed")
	}
	if _, err := HashPassword(pw, Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}); err == nil {
		t.Error("weak parameters accepted")
	}
	if _, err := ParseHash("$argon2i$nope"); err == nil {
		t.Error("bad hash parsed")
	}
}

func TestDecoyMatchesNothing(t *testing.T) {
	d := Decoy()
	if d.Verify([]byte("")) || d.Verify([]byte("password1234")) {
		t.Fatal("decoy matched")
	}
}
