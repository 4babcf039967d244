package configs

import (
	"slices"
	"strings"
	"testing"
)

func TestSSHAlgorithms(t *testing.T) {
	tests := []struct {
		name string
		ssh  string // lines under "ssh:"
		want []string
	}{
		{name: "defaults"},
		{name: "modern lists", ssh: "  ciphers: [aes256-gcm@openssh.com]\n  macs: [hmac-sha2-256-etm@openssh.com, hmac-sha2-256]\n" +
			"  kex_algorithms: [curve25519-sha256, ecdh-sha2-nistp256]\n  host_key_algorithms: [ssh-ed25519]\n"},
		{name: "sha1 mac", ssh: "  macs:\n    - hmac-sha2-256-etm@openssh.com\n    - hmac-sha1\n    - hmac-sha1-96\n", want: []string{
			`DIR/bmcgate.yaml:9: ssh.macs[1]: "hmac-sha1" is refused: it uses SHA-1`,
			`DIR/bmcgate.yaml:10: ssh.macs[2]: "hmac-sha1-96" is refused: it uses SHA-1`,
		}},
		{name: "sha1 kex", ssh: "  kex_algorithms: [curve25519-sha256, diffie-hellman-group14-sha1, diffie-hellman-group1-sha1]\n", want: []string{
			`DIR/bmcgate.yaml:7: ssh.kex_algorithms[1]: "diffie-hellman-group14-sha1" is refused: it uses SHA-1`,
			`DIR/bmcgate.yaml:7: ssh.kex_algorithms[2]: "diffie-hellman-group1-sha1" is refused: it uses SHA-1`,
		}},
		{name: "weak ciphers", ssh: "  ciphers: [aes128-cbc, 3des-cbc, arcfour256, none]\n", want: []string{
			`DIR/bmcgate.yaml:7: ssh.ciphers[0]: "aes128-cbc" is refused: CBC mode is weak in SSH`,
			`DIR/bmcgate.yaml:7: ssh.ciphers[1]: "3des-cbc" is refused: CBC mode is weak in SSH`,
			`DIR/bmcgate.yaml:7: ssh.ciphers[2]: "arcfour256" is refused: RC4 is broken`,
			`DIR/bmcgate.yaml:7: ssh.ciphers[3]: "none" is refused: no protection at all`,
		}},
		{name: "sha1 host key", ssh: "  host_key_algorithms: [ssh-rsa, ssh-dss]\n", want: []string{
			`DIR/bmcgate.yaml:7: ssh.host_key_algorithms[0]: "ssh-rsa" is refused: it uses SHA-1`,
			`DIR/bmcgate.yaml:7: ssh.host_key_algorithms[1]: "ssh-dss" is refused: DSA is weak`,
		}},
		{name: "unknown and twice", ssh: "  ciphers: [aes256-gcm@openssh.com, aes256-gcm@openssh.com, rot13]\n", want: []string{
			`DIR/bmcgate.yaml:7: ssh.ciphers[1]: "aes256-gcm@openssh.com" is listed twice`,
			`DIR/bmcgate.yaml:7: ssh.ciphers[2]: unknown algorithm "rot13": use one of aes128-gcm@openssh.com, aes256-gcm@openssh.com, chacha20-poly1305@openssh.com, aes128-ctr, aes192-ctr, aes256-ctr`,
		}},
		{name: "empty", ssh: "  macs: []\n", want: []string{
			`DIR/bmcgate.yaml:7: ssh.macs: must not be empty: leave it out for the default (hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := mutate(t, baseConfig(t), "roles:\n", "ssh:\n  banner: hi\n"+tt.ssh+"roles:\n")
			path := writeFixture(t, text)
			if tt.want == nil {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				a := c.SSH.Algorithms()
				for _, l := range [][]string{a.Ciphers, a.MACs, a.KeyExchanges, a.HostKeys} {
					if len(l) == 0 {
						t.Fatalf("an algorithm list is empty: %+v", a)
					}
					for _, name := range l {
						if strings.Contains(name, "sha1") || strings.Contains(name, "cbc") {
							t.Fatalf("weak algorithm %q in %+v", name, a)
						}
					}
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

func TestDefaultSSHAlgorithmsAreAccepted(t *testing.T) {
	d := DefaultSSHAlgorithms()
	for _, l := range [][]string{d.Ciphers, d.MACs, d.KeyExchanges, d.HostKeys} {
		for _, name := range l {
			if why := weakAlgorithm(name, nil); why != "" {
				t.Errorf("default %q is weak: %s", name, why)
			}
		}
	}
	for _, m := range d.MACs {
		if !strings.HasSuffix(m, "-etm@openssh.com") {
			t.Errorf("default MAC %q is not encrypt-then-MAC", m)
		}
	}
}

func TestPreAuthLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits string
		want   []string
		check  func(t *testing.T, l Limits)
	}{
		{name: "defaults", check: func(t *testing.T, l Limits) {
			if l.Startups() != (Startups{20, 30, 100}) || l.MaxPreAuthPerSource != 10 || l.MaxRefusedRequests != 32 ||
				l.RefusalAuditInterval.Minutes() != 1 {
				t.Fatalf("defaults %+v", l)
			}
		}},
		{name: "set", limits: "  max_startups: \"5:50:10\"\n  max_preauth_per_source: 3\n  max_refused_requests: 4\n  refusal_audit_interval: 10s\n",
			check: func(t *testing.T, l Limits) {
				if l.Startups() != (Startups{5, 50, 10}) || l.MaxPreAuthPerSource != 3 || l.MaxRefusedRequests != 4 {
					t.Fatalf("limits %+v", l)
				}
			}},
		{name: "not three numbers", limits: "  max_startups: \"10:30\"\n", want: []string{
			`DIR/bmcgate.yaml:7: limits.max_startups: "10:30" is not start:rate:full, like "20:30:100"`}},
		{name: "start above full", limits: "  max_startups: \"50:30:10\"\n", want: []string{
			`DIR/bmcgate.yaml:7: limits.max_startups: "50:30:10": need 1 <= start <= full <= 65535`}},
		{name: "rate", limits: "  max_startups: \"1:130:10\"\n", want: []string{
			`DIR/bmcgate.yaml:7: limits.max_startups: "1:130:10": rate is a percentage, 0 to 100`}},
		{name: "per source above full", limits: "  max_startups: \"5:30:8\"\n  max_preauth_per_source: 9\n", want: []string{
			`DIR/bmcgate.yaml:8: limits.max_preauth_per_source: 9 is more than max_startups allows in all (8)`}},
		{name: "zero", limits: "  max_refused_requests: 0\n", want: []string{
			`DIR/bmcgate.yaml:7: limits.max_refused_requests: 0 is out of range: use 1 to 100000 (default 32)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := mutate(t, baseConfig(t), "roles:\n", "limits:\n  command_timeout: 60s\n"+tt.limits+"roles:\n")
			path := writeFixture(t, text)
			if tt.want == nil {
				c, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c.Limits)
				return
			}
			got := problemLines(t, path, LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestCAWithoutUsers(t *testing.T) {
	base := "version: 1\ndata_dir: /var/lib/bmcgate\nssh:\n  user_ca_keys:\n    - '" + testKey(t, "ca") + "'\n"
	got := problemLines(t, writeFixture(t, base), LoadOptions{})
	want := []string{"DIR/bmcgate.yaml:4: ssh.user_ca_keys: no enabled user is listed, so no certificate can log in: " +
		"a certificate's principal must be a user under users (ssh_keys may stay empty), which gives the roles"}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	got = problemLines(t, writeFixture(t, base+"users:\n  - name: alice\n    disabled: true\n"), LoadOptions{})
	if !slices.Equal(got, want) {
		t.Errorf("only a disabled user: %q", got)
	}
	if _, err := Load(writeFixture(t, base+"users:\n  - name: alice\n"), LoadOptions{}); err != nil {
		t.Errorf("a CA with a key-less user: %v", err)
	}
}

func TestRevokedKeysPath(t *testing.T) {
	text := mutate(t, baseConfig(t), "roles:\n", "ssh:\n  revoked_keys: revoked.krl\nroles:\n")
	path := writeFixture(t, text)
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.SSH.RevokedKeys, "/revoked.krl") || !strings.HasPrefix(c.SSH.RevokedKeys, "/") {
		t.Fatalf("revoked_keys not resolved: %q", c.SSH.RevokedKeys)
	}
	text = mutate(t, baseConfig(t), "roles:\n", "ssh:\n  revoked_keys: \"\"\nroles:\n")
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	if want := []string{"DIR/bmcgate.yaml:6: ssh.revoked_keys: must not be empty: leave it out when no key is revoked"}; !slices.Equal(got, want) {
		t.Errorf("problems %q", got)
	}
}
