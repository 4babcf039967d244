package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// sshAuditUnknown are the algorithms ssh-audit 2.5.0 does not know, which
// it reports as "[warn] unknown algorithm": the ML-KEM hybrid key exchange
// and the strict-KEX marker (the Terrapin countermeasure), both newer than
// that release. Neither may be dropped to quiet it.
var sshAuditUnknown = map[string]bool{
	"mlkem768x25519-sha256":        true,
	"kex-strict-s-v00@openssh.com": true,
}

// TestE2ESSHAuditFindsNothingWeak runs ssh-audit against the SSH door: no
// algorithm it rates "fail", and no "warn" but its unknown-algorithm notes
// for the two algorithms newer than it.
func TestE2ESSHAuditFindsNothingWeak(t *testing.T) {
	ipmisim.RequireBinaries(t, "ssh-audit")
	h := authHarness(t, "")
	out, errOut, _ := runCmd(t, nil, "ssh-audit", "-n", "-b", "-l", "warn", "-p", h.port, "127.0.0.1")
	if !strings.Contains(out, "mlkem768x25519-sha256") {
		// -l warn prints only warnings and failures; the unknown ML-KEM
		// note shows that ssh-audit read the door's algorithm lists.
		t.Fatalf("ssh-audit printed nothing useful:\n%s\n%s", out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, "[fail]"):
			t.Errorf("ssh-audit fail: %s", line)
		case strings.Contains(line, "[warn]"):
			name := strings.Fields(strings.TrimPrefix(strings.TrimPrefix(line, "(kex)"), "(mac)"))
			if len(name) == 0 || !sshAuditUnknown[name[0]] || !strings.HasSuffix(line, "unknown algorithm") {
				t.Errorf("ssh-audit warn: %s", line)
			}
		case strings.HasPrefix(line, "(rec)"):
			t.Errorf("ssh-audit recommends a change: %s", line)
		}
	}
	t.Logf("ssh-audit warnings and failures:\n%s", out)
	// The full report, for the log: what is offered.
	full, _, _ := runCmd(t, nil, "ssh-audit", "-n", "-p", h.port, "127.0.0.1")
	for _, weak := range []string{"hmac-sha1", "group14-sha1", "nistp256", "-cbc", "ssh-rsa "} {
		if strings.Contains(full, weak) {
			t.Errorf("ssh-audit sees %q offered:\n%s", weak, full)
		}
	}
}

// TestE2EWeakAlgorithmsRefused: OpenSSH limited to a SHA-1 MAC, SHA-1 key
// exchange, a CBC cipher or SHA-1 RSA signatures gets no connection; the
// modern choices still work, and the refusal is audited.
func TestE2EWeakAlgorithmsRefused(t *testing.T) {
	rsaKey := filepath.Join(t.TempDir(), "rsa")
	var rsaPub string
	h := startHarnessWith(t, nil, []testUser{{name: "alice", roles: "[admin]"}}, "", func(c *configs.Config) {
		runCmd(t, nil, "ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", rsaKey)
		b, err := os.ReadFile(rsaKey + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		rsaPub = strings.TrimSpace(string(b))
		c.Users = append(c.Users, configs.User{Name: "rsauser", SSHKeys: []string{rsaPub}, Roles: []string{"admin"}})
	})
	h.keys["rsauser"] = rsaKey
	tests := []struct {
		name string
		user string
		opts []string
		ok   bool
		want string // in ssh's stderr when refused
	}{
		{"SHA-1 MAC", "alice", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1"}, false, "no matching MAC"},
		{"SHA-1-96 MAC", "alice", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1-96"}, false, "no matching MAC"},
		{"encrypt-and-MAC SHA-2", "alice", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256"}, false, "no matching MAC"},
		{"SHA-1 key exchange", "alice", []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha1"}, false, "no matching key exchange"},
		{"NIST key exchange", "alice", []string{"-o", "KexAlgorithms=ecdh-sha2-nistp256"}, false, "no matching key exchange"},
		{"CBC cipher", "alice", []string{"-o", "Ciphers=aes128-cbc"}, false, "no matching cipher"},
		{"SHA-1 RSA user signature", "rsauser", []string{"-o", "PubkeyAcceptedAlgorithms=ssh-rsa"}, false, "Permission denied"},
		{"AES-CTR with ETM", "alice", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"}, true, ""},
		{"X25519", "alice", []string{"-o", "KexAlgorithms=curve25519-sha256"}, true, ""},
		{"DH group 16", "alice", []string{"-o", "KexAlgorithms=diffie-hellman-group16-sha512"}, true, ""},
		{"RSA with SHA-512", "rsauser", []string{"-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := h.ssh(tt.user, tt.opts, "whoami")
			if tt.ok {
				if code != 0 || !strings.Contains(out, "user:    "+tt.user) {
					t.Fatalf("code %d\n%s\n%s", code, out, errOut)
				}
				return
			}
			if code != 255 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d, stderr lacks %q:\n%s", code, tt.want, errOut)
			}
		})
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "no common algorithm")
	})
}
