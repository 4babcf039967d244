package gateway

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/sshca"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/keyfile"
	"github.com/bmcgate/bmcgate/internal/testpeer/peerkit"
	gossh "golang.org/x/crypto/ssh"
)

// certWeb is a web harness whose gateway issues SSH certificates to single
// sign-on users (no SSH user in the config), with a revocation list.
func certWeb(t *testing.T) (*webHarness, *webTestClock, string) {
	t.Helper()
	clock := stepWebClock(t)
	krl := filepath.Join(t.TempDir(), "revoked.krl")
	if out, err := exec.Command("ssh-keygen", "-q", "-k", "-f", krl).CombinedOutput(); err != nil {
		t.Fatalf("empty KRL: %v %s", err, out)
	}
	w := startWeb(t, webOptions{
		noSSHUsers: true,
		extraWeb:   "    scopes: [openid, profile, email, groups, offline_access]\n",
		extraTop:   fmt.Sprintf("ssh:\n  issue_certificates: true\n  revoked_keys: %q\n", krl),
		mutate:     func(c *configs.Config) { c.Web.Session.RefreshInterval.Duration = time.Second },
	})
	return w, clock, krl
}

var serialOnPage = regexp.MustCompile(`id="serial">(\d+)<`)

// signOnPage signs a new key for the logged-in user on the SSH access page
// and writes key, key.pub and key-cert.pub; it returns the key path and
// the serial.
func signOnPage(t *testing.T, w *webHarness, c *http.Client, name string) (string, uint64, string) {
	t.Helper()
	key := filepath.Join(t.TempDir(), name)
	pk := peerkit.WriteKey(t, key)
	_, page := get(t, c, w.base+"/ssh")
	resp, page := w.post(t, c, "/ssh", url.Values{"csrf": {csrf(t, page)}, "public_key": {string(gossh.MarshalAuthorizedKey(pk))}, "lifetime": {"2h"}}, "")
	m := serialOnPage.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("SSH access page: %d %.800s", resp.StatusCode, page)
	}
	cm := regexp.MustCompile(`(?s)<pre id="certificate">([^<]+)</pre>`).FindStringSubmatch(page)
	lm := regexp.MustCompile(`(?s)<pre id="ssh-line">([^<]+)</pre>`).FindStringSubmatch(page)
	if cm == nil || lm == nil {
		t.Fatalf("no certificate or ssh line: %.800s", page)
	}
	if err := os.WriteFile(key+"-cert.pub", []byte(htmlUnescape(cm[1])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	serial, _ := strconv.ParseUint(m[1], 10, 64)
	return key, serial, htmlUnescape(lm[1])
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#x2F;", "/").Replace(strings.TrimSpace(s))
}

// certSSH runs ssh as user with key and its certificate.
func certSSH(w *webHarness, user, key string, command ...string) (string, string, int) {
	w.keys[user] = key
	return w.ssh(user, []string{"-o", "CertificateFile=" + key + "-cert.pub"}, command...)
}

// certShell starts an OpenSSH session without a terminal as user with the
// certificate of key, once whoami has answered with the admin role.
func certShell(t *testing.T, w *webHarness, user, key string) *ptyClient {
	t.Helper()
	w.keys[user] = key
	sh := startPTYCmd(t, "ssh", append(w.sshArgs(user, "-T", "-o", "CertificateFile="+key+"-cert.pub"), user+"@127.0.0.1")...)
	sh.send("whoami\n")
	sh.waitFor("admin")
	return sh
}

// TestSSHCertFromWebDoor: a single sign-on user with no entry in the
// config signs a key on the SSH access page and logs in with OpenSSH using
// the certificate, with the roles of the web login; the issue is audited
// with serial, fingerprint and validity, and the page prints the ssh line.
// An expired certificate of the same CA is refused with the reason.
func TestSSHCertFromWebDoor(t *testing.T) {
	w, _, _ := certWeb(t)
	c := w.client(t)
	if resp, body := w.login(t, c, "alice", "alice-password-1", "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/ssh"`) {
		t.Fatalf("login: %d %.400s", resp.StatusCode, body)
	}
	key, serial, line := signOnPage(t, w, c, "alice_key")
	_, port, _ := strings.Cut(w.g.SSHAddr(), ":")
	if !strings.HasPrefix(line, "ssh -p "+port+" -o CertificateFile=") || !strings.HasSuffix(line, " alice@127.0.0.1") {
		t.Fatalf("ssh line %q", line)
	}
	out, errOut, code := certSSH(w, "alice", key, "whoami")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "admin") {
		t.Fatalf("whoami with the certificate: %d %q %q", code, out, errOut)
	}
	if out, _, code := certSSH(w, "alice", key, "power", "status", "node01"); code != 0 || !strings.Contains(out, "on") {
		t.Fatalf("power status: %d %q", code, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	pk, _, _, _, _ := gossh.ParseAuthorizedKey(pub)
	rec := w.waitRecord(t, audit.Query{Code: audit.CodeCertIssue, Actor: "alice"}, nil)
	if rec.Fields["serial"] != strconv.FormatUint(serial, 10) || rec.Fields["fingerprint"] != gossh.FingerprintSHA256(pk) ||
		rec.Fields["roles"] != "admin" || rec.Fields["valid_before"] == "" || strings.Contains(rec.Reason+rec.Fields["key_id"], "AAAA") {
		t.Fatalf("cert.issue record: %s %v", rec.Reason, rec.Fields)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthLogin, Actor: "alice"}, func(r audit.Record) bool {
		return r.Door == "ssh" && strings.Contains(r.Reason+r.Fields["auth"], "gateway certificate")
	})

	// The CA key is in the data dir, mode 0600; a certificate it signed
	// that has expired is refused.
	caPath := filepath.Join(w.g.cfg.DataDir, datadir.UserCA)
	if fi, err := os.Stat(caPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key: %v %v", fi, err)
	}
	ca, _, err := keyfile.LoadOrCreate(caPath, "CA", "")
	if err != nil {
		t.Fatal(err)
	}
	old := &gossh.Certificate{Key: pk, Serial: serial, CertType: gossh.UserCert, KeyId: "old", ValidPrincipals: []string{"alice"},
		ValidAfter: uint64(time.Now().Add(-3 * time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(-time.Hour).Unix()),
		Permissions: gossh.Permissions{Extensions: map[string]string{"permit-pty": "", sshca.ExtRoles: "admin"}}}
	if err := old.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	expired := filepath.Join(t.TempDir(), "expired")
	data, _ := os.ReadFile(key)
	_ = os.WriteFile(expired, data, 0o600)
	_ = os.WriteFile(expired+"-cert.pub", gossh.MarshalAuthorizedKey(old), 0o644)
	if _, _, code := w.ssh("alice", []string{"-o", "CertificateFile=" + expired + "-cert.pub", "-i", expired}, "whoami"); code != 255 {
		t.Fatalf("expired certificate: exit %d", code)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "expired")
	})

	// The API signs a key for the browser login too.
	pk2 := peerkit.WriteKey(t, filepath.Join(t.TempDir(), "k2"))
	_, page := get(t, c, w.base+"/ssh")
	body, _ := json.Marshal(map[string]string{"public_key": string(gossh.MarshalAuthorizedKey(pk2)), "lifetime": "30m"})
	st, got := w.api(t, c, "POST", "/api/v1/ssh/certificates", "", string(body), map[string]string{"X-CSRF-Token": csrf(t, page), "Origin": w.base})
	if st != http.StatusCreated || !strings.HasPrefix(got["certificate"].(string), "ssh-ed25519-cert-v01@openssh.com ") || got["ssh"] == nil {
		t.Fatalf("API: %d %v", st, got)
	}
	// Longer than ssh.cert_max_lifetime is refused.
	body, _ = json.Marshal(map[string]string{"public_key": string(gossh.MarshalAuthorizedKey(pk2)), "lifetime": "9h"})
	if st, got := w.api(t, c, "POST", "/api/v1/ssh/certificates", "", string(body), map[string]string{"X-CSRF-Token": csrf(t, page), "Origin": w.base}); st != http.StatusBadRequest {
		t.Fatalf("9h certificate: %d %v", st, got)
	}
}

// TestSSHCertRevoked: a certificate revoked by serial (bmcgate cert
// revoke writes the data dir's revocations file) ends its live shell and is
// refused at the next login; one revoked in the KRL is refused too.
func TestSSHCertRevoked(t *testing.T) {
	w, _, krl := certWeb(t)
	c := w.client(t)
	w.login(t, c, "alice", "alice-password-1", "/")
	key, serial, _ := signOnPage(t, w, c, "alice_key")
	sh := certShell(t, w, "alice", key)
	if err := sshca.Revoke(w.g.cfg.DataDir, serial, "laptop lost", time.Now()); err != nil {
		t.Fatal(err)
	}
	sh.waitFor("session ended: the certificate was revoked: laptop lost")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d:\n%q", code, sh.output())
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeCertRevoke, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["serial"] == strconv.FormatUint(serial, 10) && strings.Contains(r.Reason, "laptop lost")
	})
	if _, _, code := certSSH(w, "alice", key, "whoami"); code != 255 {
		t.Fatalf("revoked certificate logged in: %d", code)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "revoked") && strings.Contains(r.Reason, strconv.FormatUint(serial, 10))
	})

	// The KRL names the serial of another certificate of the gateway's CA.
	key2, serial2, _ := signOnPage(t, w, c, "alice_key2")
	if _, _, code := certSSH(w, "alice", key2, "whoami"); code != 0 {
		t.Fatalf("second certificate: %d", code)
	}
	caPub := filepath.Join(t.TempDir(), "ca.pub")
	_ = os.WriteFile(caPub, gossh.MarshalAuthorizedKey(w.g.certs.CA().PublicKey()), 0o644)
	spec := filepath.Join(t.TempDir(), "spec")
	_ = os.WriteFile(spec, []byte("serial: "+strconv.FormatUint(serial2, 10)+"\n"), 0o644)
	if out, err := exec.Command("ssh-keygen", "-q", "-k", "-f", krl, "-s", caPub, spec).CombinedOutput(); err != nil {
		t.Fatalf("KRL: %v %s", err, out)
	}
	waitFor(t, func() bool { _, _, code := certSSH(w, "alice", key2, "whoami"); return code == 255 })
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "serial") && strings.Contains(r.Reason, strconv.FormatUint(serial2, 10)) && strings.Contains(r.Reason, "revoked")
	})
}

// TestSSHCertFollowsProvider: logging out of the browser leaves the
// certificate usable, but when the user leaves every mapped group at the
// provider, the background refresh of the web login ends the live shell of
// the certificate issued from it (within the refresh interval, with no
// browser using the login), and the certificate no longer logs in.
func TestSSHCertFollowsProvider(t *testing.T) {
	w, clock, _ := certWeb(t)
	c := w.client(t)
	w.login(t, c, "alice", "alice-password-1", "/")
	key, serial, _ := signOnPage(t, w, c, "alice_key")
	_, page := get(t, c, w.base+"/ssh")
	if resp, _ := w.post(t, c, "/logout", url.Values{"csrf": {csrf(t, page)}}, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	sh := certShell(t, w, "alice", key)

	w.op.SetGroups("u-alice", []string{"strangers"})
	clock.advance(1100 * time.Millisecond)
	sh.waitFor("session ended: the web login it was issued from ended")
	if code := sh.wait(); code != exitRefusedStatus {
		t.Fatalf("exit %d:\n%q", code, sh.output())
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeCertEnd, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["serial"] == strconv.FormatUint(serial, 10) && strings.Contains(r.Reason, "no bmcgate role")
	})
	if _, _, code := certSSH(w, "alice", key, "whoami"); code != 255 {
		t.Fatalf("certificate of an ended login logged in: %d", code)
	}
	w.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "alice"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "web login it was issued from ended")
	})
}

// TestSSHCertRolesRecheckedAtCommand: of the roles a certificate carries,
// each command uses only those the current config still grants the user:
// a reload that maps the user's group to another role takes the old one
// away at the next command, and never adds the new one.
func TestSSHCertRolesRecheckedAtCommand(t *testing.T) {
	w, _, _ := certWeb(t)
	c := w.client(t)
	w.login(t, c, "audrey", "audrey-password-1", "/")
	key, _, _ := signOnPage(t, w, c, "audrey_key")
	if out, errOut, code := certSSH(w, "audrey", key, "whoami"); code != 0 || !strings.Contains(out, "auditor, viewer") {
		t.Fatalf("whoami: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := certSSH(w, "audrey", key, "audit", "search", "--limit", "1"); code != 0 {
		t.Fatalf("audit search as auditor: %d %q", code, errOut)
	}
	w.reloadWith(t, "      auditors: [auditor]\n", "      auditors: [admin]\n")
	if _, errOut, code := certSSH(w, "audrey", key, "audit", "search", "--limit", "1"); code != 1 || !strings.Contains(errOut, "denied") {
		t.Fatalf("audit search after the reload: %d %q", code, errOut)
	}
	if out, _, code := certSSH(w, "audrey", key, "whoami"); code != 0 || strings.Contains(out, "admin") || strings.Contains(out, "auditor") {
		t.Fatalf("whoami after the reload: %d %q", code, out)
	}
}

// waitFor polls cond (a peer's answer) until it holds, for at most 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
