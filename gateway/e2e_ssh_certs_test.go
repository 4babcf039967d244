package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	gossh "golang.org/x/crypto/ssh"
)

// certHarness is a gateway trusting a user CA made with ssh-keygen, with a
// revoked-keys file (empty at first). alice has a key of her own; carol
// logs in with certificates only.
type certHarness struct {
	*harness
	ca, krl string
}

func startCertHarness(t *testing.T) *certHarness {
	t.Helper()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	runCmd(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bmcgate test CA", "-f", ca)
	caPub, err := os.ReadFile(ca + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	krl := filepath.Join(dir, "revoked.krl")
	if err := os.WriteFile(krl, []byte("# no key revoked yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw-node01", CipherSuites: []int{17}})
	h := startHarness(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw-node01", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}, {name: "carol", roles: "[admin]", noKey: true}},
		fmt.Sprintf("ssh:\n  user_ca_keys: [%q]\n  revoked_keys: %q\n", strings.TrimSpace(string(caPub)), krl))
	return &certHarness{harness: h, ca: ca, krl: krl}
}

// cert signs user's key into a certificate file of its own and returns the
// options that make OpenSSH use it (after the plain key, which is tried
// first only when the certificate is left out).
func (ch *certHarness) cert(t *testing.T, user, name string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, name+".pub")
	data, err := os.ReadFile(ch.keys[user] + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, data, 0o644); err != nil {
		t.Fatal(err)
	}
	all := append([]string{"-q", "-s", ch.ca, "-I", name, "-n", user}, args...)
	if _, errOut, code := runCmd(t, nil, "ssh-keygen", append(all, pub)...); code != 0 {
		t.Fatalf("ssh-keygen: %s", errOut)
	}
	return filepath.Join(dir, name+"-cert.pub")
}

// TestE2ECertificateHardening: permit-pty, every refusal reason kept, the
// requested command beside a force-command, certified-key strength and the
// revocation list, with OpenSSH and ssh-keygen.
func TestE2ECertificateHardening(t *testing.T) {
	ch := startCertHarness(t)
	h := ch.harness

	t.Run("permit-pty absent: no terminal, no prompt", func(t *testing.T) {
		noPTY := ch.cert(t, "carol", "carol-nopty", "-z", "11", "-O", "clear")
		args := append(h.sshArgs("carol", "-tt", "-v", "-o", "CertificateFile="+noPTY), "carol@127.0.0.1")
		out, errOut, _ := runCmd(t, []byte("whoami\n"), "ssh", args...)
		if !strings.Contains(errOut, "PTY allocation request failed") || strings.Contains(out, "bmcgate> ") {
			t.Fatalf("a certificate without permit-pty got a terminal:\n%q\n%s", out, errOut)
		}
		// OpenSSH closes the session when a terminal it was told to get
		// (-t) is refused; without one, commands still run.
		args = append(h.sshArgs("carol", "-T", "-o", "CertificateFile="+noPTY), "carol@127.0.0.1")
		out, errOut, code := runCmd(t, []byte("whoami\n"), "ssh", args...)
		if code != 0 || !strings.Contains(out, "user:    carol") {
			t.Fatalf("commands without a terminal do not run: code %d\n%q\n%s", code, out, errOut)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "carol"}, func(r audit.Record) bool {
			return strings.HasPrefix(r.Fields["type"], "pty-req")
		})
		withPTY := ch.cert(t, "carol", "carol-pty", "-z", "12")
		args = append(h.sshArgs("carol", "-tt", "-o", "CertificateFile="+withPTY), "carol@127.0.0.1")
		out, errOut, _ = runCmd(t, []byte("exit\n"), "ssh", args...)
		if !strings.Contains(out, "bmcgate> ") {
			t.Fatalf("permit-pty: no prompt\n%q\n%s", out, errOut)
		}
	})

	t.Run("refused certificate then plain key: both recorded", func(t *testing.T) {
		expired := ch.cert(t, "alice", "alice-expired", "-z", "21", "-V", "-2h:-1h")
		out, errOut, code := h.ssh("alice", []string{"-v", "-o", "CertificateFile=" + expired}, "whoami")
		if code != 0 || !strings.Contains(out, "user:    alice") {
			t.Fatalf("plain key after an expired certificate: code %d\n%s\n%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "Offering public key: "+expired+" ED25519-CERT") {
			t.Fatalf("ssh did not offer the certificate first; the test proves nothing:\n%s", errOut)
		}
		login := h.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "alice"}, func(r audit.Record) bool {
			return strings.Contains(r.Fields["refused_reasons"], "expired")
		})
		if login.Fields["refused_keys"] != "1" || !strings.HasPrefix(login.Reason, "publickey ") {
			t.Fatalf("login record %+v", login)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "expired") && strings.Contains(r.Reason, "then logged in with another key")
		})
	})

	t.Run("every refusal of a failed login is kept", func(t *testing.T) {
		expired := ch.cert(t, "carol", "carol-expired", "-z", "31", "-V", "-2h:-1h")
		_, errOut, code := h.ssh("carol", []string{"-o", "CertificateFile=" + expired}, "whoami")
		if code != 255 {
			t.Fatalf("carol logged in with an expired certificate: %s", errOut)
		}
		r := h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "carol"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "expired")
		})
		// The certificate and then carol's plain key, which is not hers to use.
		if !strings.Contains(r.Reason, "not authorized") || r.Fields["refused_keys"] != "2" {
			t.Fatalf("auth.fail keeps only part of the story: %+v", r)
		}
	})

	t.Run("force-command: requested command recorded too", func(t *testing.T) {
		forced := ch.cert(t, "carol", "carol-forced", "-z", "41", "-O", "force-command=whoami")
		out, errOut, code := h.ssh("carol", []string{"-o", "CertificateFile=" + forced}, "power", "off", "node01")
		if code != 0 || !strings.Contains(out, "user:    carol") {
			t.Fatalf("force-command: code %d\n%s\n%s", code, out, errOut)
		}
		r := h.waitRecord(t, audit.Query{Code: audit.CodeCmdRun, Actor: "carol"}, func(r audit.Record) bool {
			return r.Fields["command"] == "whoami" && r.Fields["force_command"] == "true"
		})
		if r.Fields["requested"] != "power off node01" {
			t.Fatalf("cmd.run record %+v", r)
		}
	})

	t.Run("certificate over an RSA-1024 key refused", func(t *testing.T) {
		weak := filepath.Join(t.TempDir(), "weak")
		runCmd(t, nil, "ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", weak)
		if _, errOut, code := runCmd(t, nil, "ssh-keygen", "-q", "-s", ch.ca, "-I", "weak", "-n", "carol", "-z", "51", weak+".pub"); code != 0 {
			t.Fatal(errOut)
		}
		args := []string{"-F", "/dev/null", "-p", h.port, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.knownHosts, "-o", "RequiredRSASize=1024",
			"-i", weak, "carol@127.0.0.1", "whoami"}
		_, errOut, code := runCmd(t, nil, "ssh", args...)
		if code != 255 {
			t.Fatalf("RSA-1024 certificate logged in:\n%s", errOut)
		}
		h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "carol"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "RSA key of 1024 bits is too weak")
		})
	})

	t.Run("revocation list reloaded on change", func(t *testing.T) {
		good := ch.cert(t, "carol", "carol-good", "-z", "61")
		other := ch.cert(t, "carol", "carol-other", "-z", "62")
		for _, c := range []string{good, other} {
			if out, errOut, code := h.ssh("carol", []string{"-o", "CertificateFile=" + c}, "whoami"); code != 0 {
				t.Fatalf("before revocation: code %d\n%s\n%s", code, out, errOut)
			}
		}
		spec := filepath.Join(t.TempDir(), "spec")
		if err := os.WriteFile(spec, []byte("serial: 61\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := runCmd(t, nil, "ssh-keygen", "-k", "-f", ch.krl, "-s", ch.ca+".pub", spec); code != 0 {
			t.Fatal(errOut)
		}
		waitLoginRefused(t, h, "carol", []string{"-o", "CertificateFile=" + good}, "the revoked certificate still logs in")
		h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "carol"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "certificate serial 61 of CA") && strings.Contains(r.Reason, "is revoked")
		})
		if out, errOut, code := h.ssh("carol", []string{"-o", "CertificateFile=" + other}, "whoami"); code != 0 {
			t.Fatalf("another certificate was revoked with it: code %d\n%s\n%s", code, out, errOut)
		}
		// An unreadable list refuses every key until it is fixed.
		if err := os.WriteFile(ch.krl, []byte("SSHKRL\n\x00broken"), 0o644); err != nil {
			t.Fatal(err)
		}
		waitLoginRefused(t, h, "alice", nil, "a broken revocation list let keys in")
		h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
			return strings.Contains(r.Reason, "revoked-keys file unusable")
		})
	})
}

// waitLoginRefused retries a login until it is refused: the revoked-keys
// file is looked at no more than once a second, so a change applies to a
// login a moment later.
func waitLoginRefused(t *testing.T, h *harness, user string, opts []string, msg string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, _, code := h.ssh(user, opts, "whoami"); code == 255 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestConfigCheckReadsRevokedKeys: a revoked-keys file the door could not
// use is a config problem at its line, except with --skip-secrets.
func TestConfigCheckReadsRevokedKeys(t *testing.T) {
	dir := t.TempDir()
	pub := writeKey(t, filepath.Join(dir, "alice"))
	bad := filepath.Join(dir, "revoked.krl")
	if err := os.WriteFile(bad, []byte("SSHKRL\n\x00\x00\x00\x00\x09"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("version: 1\ndata_dir: %q\nssh:\n  revoked_keys: %q\nroles:\n  - name: admin\n    allow:\n      - actions: [\"*\"]\n        bmcs: [\"*\"]\n"+
		"users:\n  - name: alice\n    roles: [admin]\n    ssh_keys: [%q]\n", filepath.Join(dir, "data"), bad, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub))))
	path := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := assemble.LoadConfig(path, false)
	if err == nil || !strings.Contains(err.Error(), path+":4: ssh.revoked_keys: KRL format version 9 is not supported") {
		t.Fatalf("bad KRL: %v", err)
	}
	if _, err := assemble.LoadConfig(path, true); err != nil {
		t.Fatalf("--skip-secrets read the revoked-keys file: %v", err)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := assemble.LoadConfig(path, false); err == nil || !strings.Contains(err.Error(), "ssh.revoked_keys: open ") {
		t.Fatalf("missing file: %v", err)
	}
}
