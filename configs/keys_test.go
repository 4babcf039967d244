package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestUserKeys(t *testing.T) {
	const prefix = "DIR/bmcgate.yaml:13: users[0].ssh_keys[0]: "
	const noAuth = "DIR/bmcgate.yaml:10: users: no way to log in: give at least one enabled user an ssh_keys entry (or set ssh.user_ca_keys and list the users it may sign for), or open the web door (listen.https) with web.oidc or an enabled web.break_glass account"
	tests := []struct {
		name string
		key  string
		want string // problem message; "" means accepted
	}{
		{"ed25519", testKey(t, "bob"), ""},
		{"ecdsa", testKey(t, "ecdsa"), ""},
		{"rsa 2048", testKey(t, "rsa2048"), ""},
		{"no comment", strings.Join(strings.Fields(testKey(t, "bob"))[:2], " "), ""},
		{"rsa 1024", testKey(t, "rsa1024"), "RSA key of 1024 bits is too weak: use at least 2048 bits, or an ed25519 key"},
		{"dsa", testKey(t, "dsa"), "DSA keys are refused: they are weak; use an ed25519 key"},
		{"certificate", testKey(t, "alice-cert"), "is a certificate, not a public key: list the plain key, or add the CA to ssh.user_ca_keys"},
		{"from option", `from="10.0.0.0/8" ` + testKey(t, "bob"), "key options (from) are not supported: bmcgate would ignore them"},
		{"several options", `no-pty,command="/bin/true" ` + testKey(t, "bob"), "key options (no-pty, command) are not supported: bmcgate would ignore them"},
		{"cert-authority on a user key", "cert-authority " + testKey(t, "ca"), "key options (cert-authority) are not supported: bmcgate would ignore them"},
		{"garbage", "not a key", `not a public key in authorized_keys format ("ssh-ed25519 AAAA... comment")`},
		{"truncated", testKey(t, "bob")[:40], `not a public key in authorized_keys format ("ssh-ed25519 AAAA... comment")`},
		{"empty", "", `not a public key in authorized_keys format ("ssh-ed25519 AAAA... comment")`},
		{"two keys", testKey(t, "bob") + `\n` + testKey(t, "carol"), "holds more than one line: list each key as its own entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := mutate(t, baseConfig(t), testKey(t, "alice"), strings.ReplaceAll(tt.key, `"`, `\"`))
			path := writeFixture(t, text)
			if tt.want == "" {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Users[0].PublicKeys()) != 1 {
					t.Error("key not kept")
				}
				return
			}
			got := problemLines(t, path, LoadOptions{})
			if want := []string{noAuth, prefix + tt.want}; !slices.Equal(got, want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestDuplicateKeyAcrossUsers(t *testing.T) {
	text := mutate(t, baseConfig(t), "bmcs:\n", "  - name: bob\n    ssh_keys: [\""+testKey(t, "alice")+" copy\"]\nbmcs:\n")
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	want := []string{"DIR/bmcgate.yaml:16: users[1].ssh_keys[0]: same key as users[0].ssh_keys[0]: a key must identify one user"}
	if !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

func TestUserCAKeys(t *testing.T) {
	// A CA that cannot be used leaves no way to log in.
	const noAuth = "DIR/bmcgate.yaml:6: users: no way to log in: give at least one enabled user an ssh_keys entry (or set ssh.user_ca_keys and list the users it may sign for), or open the web door (listen.https) with web.oidc or an enabled web.break_glass account"
	tests := []struct {
		name string
		keys []string
		want []string
	}{
		{"plain", []string{testKey(t, "ca")}, nil},
		{"cert-authority option", []string{"cert-authority " + testKey(t, "ca")}, nil},
		{"other option", []string{`cert-authority,principals="x" ` + testKey(t, "ca")}, []string{
			"DIR/bmcgate.yaml:5: ssh.user_ca_keys[0]: key options (cert-authority, principals) are not supported: only cert-authority is allowed", noAuth,
		}},
		{"weak", []string{testKey(t, "rsa1024")}, []string{
			"DIR/bmcgate.yaml:5: ssh.user_ca_keys[0]: RSA key of 1024 bits is too weak: use at least 2048 bits, or an ed25519 key", noAuth,
		}},
		{"certificate", []string{testKey(t, "alice-cert")}, []string{
			"DIR/bmcgate.yaml:5: ssh.user_ca_keys[0]: is a certificate, not a CA public key", noAuth,
		}},
		{"duplicate", []string{testKey(t, "ca"), "cert-authority " + testKey(t, "ca")}, []string{
			"DIR/bmcgate.yaml:6: ssh.user_ca_keys[1]: same key as ssh.user_ca_keys[0]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("version: 1\ndata_dir: /var/lib/bmcgate\nssh:\n  user_ca_keys:\n")
			for _, k := range tt.keys {
				b.WriteString("    - '" + k + "'\n")
			}
			b.WriteString("users:\n  - name: alice\n")
			path := writeFixture(t, b.String())
			if tt.want == nil {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(c.SSH.CAKeys()) != len(tt.keys) {
					t.Errorf("CA keys = %d", len(c.SSH.CAKeys()))
				}
				return
			}
			got := problemLines(t, path, LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
