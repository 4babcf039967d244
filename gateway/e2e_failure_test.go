package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	bolt "go.etcd.io/bbolt"
	gossh "golang.org/x/crypto/ssh"
)

// closedUDPAddr returns a loopback UDP address nobody listens on.
func closedUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}

func TestE2EBMCFailures(t *testing.T) {
	sim := ipmisim.StartT(t, ipmisim.Options{Users: []ipmisim.User{{ID: 2, Name: "gw", Password: "right-password", Priv: "admin"}}})
	zero := startSim(t, "zero", bmcsim.Options{Username: "gw", Password: "pw-zero", CipherSuites: []int{0}})
	h := startHarness(t, []testBMC{
		{name: "down01", addr: closedUDPAddr(t), user: "gw", pass: "pw-down", suite: 3},
		{name: "wrongpw", addr: sim.Addr, user: "gw", pass: "WRONG-password", suite: 3},
		{name: "suite0", addr: zero.Addr(), user: "gw", pass: "pw-zero", suite: 3},
		{name: "no17", addr: sim.Addr, user: "gw", pass: "right-password", suite: 17},
	}, []testUser{{name: "alice", roles: "[admin]"}}, "limits:\n  ipmi_connect_timeout: 1s\n  ipmi_call_timeout: 1s\n")

	tests := []struct {
		bmc  string
		want string // in the error line
	}{
		{"down01", "down01"},
		{"wrongpw", "wrongpw"},
		{"suite0", "suite0"},
		{"no17", "no17"},
	}
	for _, tt := range tests {
		t.Run(tt.bmc, func(t *testing.T) {
			start := time.Now()
			out, errOut, code := h.ssh("alice", nil, "power", "status", tt.bmc)
			if code != 1 || !strings.Contains(errOut, tt.want+" ") || !strings.Contains(errOut, "error:") {
				t.Fatalf("code %d\nstdout %q\nstderr %q", code, out, errOut)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			for _, secret := range []string{"WRONG-password", "right-password", "pw-zero", "pw-down"} {
				if strings.Contains(out+errOut, secret) {
					t.Fatalf("a BMC password reached the user: %q", errOut)
				}
			}
			r := h.waitRecord(t, audit.Query{Code: audit.CodeBMCCall, Target: tt.bmc}, nil)
			if r.Outcome != audit.OutcomeError || r.Reason == "" {
				t.Fatalf("outcome record %+v", r)
			}
			t.Logf("%s: %s", tt.bmc, strings.TrimSpace(errOut))
		})
	}
	all := h.records(t, audit.Query{Code: audit.CodeBMCCall})
	for _, r := range all {
		for _, secret := range []string{"WRONG-password", "right-password", "pw-zero"} {
			if strings.Contains(r.Reason, secret) {
				t.Fatalf("password in audit: %+v", r)
			}
		}
	}
}

// TestE2EFailClosedWithoutAudit: when the audit store stops accepting
// records, commands are refused and no BMC is touched.
func TestE2EFailClosedWithoutAudit(t *testing.T) {
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw", PowerOn: true})
	h := startHarness(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "")
	if _, _, code := h.ssh("alice", nil, "power", "status", "node01"); code != 0 {
		t.Fatal("baseline command failed")
	}
	if err := h.g.store.Close(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := h.ssh("alice", nil, "power", "off", "node01")
	if code == 0 || !strings.Contains(errOut, "audit log is unavailable") {
		t.Fatalf("power off without audit: code %d %q", code, errOut)
	}
	if !b.Power() {
		t.Fatal("the BMC was powered off although nothing could be recorded")
	}
}

func TestE2ETamperedAuditDetected(t *testing.T) {
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw"})
	h := startHarness(t, []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw", suite: 17}},
		[]testUser{{name: "alice", roles: "[admin]"}}, "")
	for i := 0; i < 3; i++ {
		if _, _, code := h.ssh("alice", nil, "power", "status", "node01"); code != 0 {
			t.Fatal("command failed")
		}
	}
	out, _, code := h.ssh("alice", nil, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit log OK") {
		t.Fatalf("online verify: %d %q", code, out)
	}
	dataDir := filepath.Join(h.dir, "data")
	h.stop()
	var buf bytes.Buffer
	if err := offline.VerifyAudit(context.Background(), dataDir, nil, false, &buf); err != nil {
		t.Fatalf("offline verify of an intact log: %v\n%s", err, buf.String())
	}
	// Rewrite one decision: "deny" → "allow", keeping the stored hash.
	db, err := bolt.Open(filepath.Join(dataDir, datadir.AuditDB), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var edited uint64
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("records"))
		if bk == nil {
			return errors.New("no records bucket")
		}
		c := bk.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if bytes.Contains(v, []byte(`"code":"bmc.call"`)) {
				edited = binary.BigEndian.Uint64(k)
				nv := bytes.Replace(v, []byte(`"outcome":"ok"`), []byte(`"outcome":"error"`), 1)
				return bk.Put(k, nv)
			}
		}
		return errors.New("no record to edit")
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	err = offline.VerifyAudit(context.Background(), dataDir, nil, false, &buf)
	if !errors.Is(err, offline.ErrVerifyFailed) || !strings.Contains(buf.String(), "#"+itoa(edited)) {
		t.Fatalf("tampering not detected at #%d: %v\n%s", edited, err, buf.String())
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestE2EUserCertificates logs in with OpenSSH user certificates made by
// ssh-keygen: principal, expiry and force-command are honoured.
func TestE2EUserCertificates(t *testing.T) {
	dir := t.TempDir()
	caKey := filepath.Join(dir, "ca")
	caPub := writeKey(t, caKey)
	b := startSim(t, "node01", bmcsim.Options{Username: "gw", Password: "pw"})
	extra := "ssh:\n  user_ca_keys: [" + `"` + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(caPub))) + `"` + "]\n"
	h := startHarness(t, certBMCs(b), []testUser{{name: "alice", roles: "[admin]"}, {name: "carol", roles: "[viewer]", noKey: true}}, extra)

	sign := func(name string, opts ...string) string {
		key := filepath.Join(dir, name)
		writeKey(t, key)
		args := append([]string{"-q", "-s", caKey, "-I", name + "-id"}, opts...)
		args = append(args, key+".pub")
		if _, errOut, code := runCmd(t, nil, "ssh-keygen", args...); code != 0 {
			t.Fatalf("ssh-keygen: %s", errOut)
		}
		return key
	}
	login := func(key, user string, command ...string) (string, string, int) {
		args := []string{"-F", "/dev/null", "-p", h.port, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + h.knownHosts, "-i", key, user + "@127.0.0.1"}
		return runCmd(t, nil, "ssh", append(args, command...)...)
	}

	good := sign("good", "-n", "carol", "-V", "-5m:+1h")
	out, errOut, code := login(good, "carol", "whoami")
	if code != 0 || !strings.Contains(out, "user:    carol") || !strings.Contains(out, `certificate id="good-id"`) {
		t.Fatalf("cert login: %d %q %q", code, out, errOut)
	}
	if _, _, code := login(good, "alice", "whoami"); code == 0 {
		t.Fatal("a certificate for carol logged in as alice")
	}
	expired := sign("expired", "-n", "carol", "-V", "20200101:20200102")
	if _, _, code := login(expired, "carol", "whoami"); code == 0 {
		t.Fatal("an expired certificate logged in")
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeAuthFail, Actor: "carol"}, func(r audit.Record) bool {
		return strings.Contains(r.Reason, "expired")
	})
	forced := sign("forced", "-n", "carol", "-V", "-5m:+1h", "-O", "force-command=power status node01")
	out, errOut, code = login(forced, "carol", "list")
	if code != 0 || !strings.Contains(out, "node01") || strings.Contains(out, "ADDRESS") {
		t.Fatalf("force-command not applied: %d %q %q", code, out, errOut)
	}
	wrongSrc := sign("wrongsrc", "-n", "carol", "-V", "-5m:+1h", "-O", "source-address=10.9.9.0/24")
	if _, _, code := login(wrongSrc, "carol", "whoami"); code == 0 {
		t.Fatal("source-address not enforced")
	}
}

func certBMCs(b *bmcsim.BMC) []testBMC {
	return []testBMC{{name: "node01", addr: b.Addr(), user: "gw", pass: "pw", suite: 17}}
}

// TestE2EX11Refused sends an x11-req with a Go client (OpenSSH needs a
// display to try).
func TestE2EX11Refused(t *testing.T) {
	h := authHarness(t, "")
	c, err := gossh.Dial("tcp", "127.0.0.1:"+h.port, &gossh.ClientConfig{
		User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(loadSigner(t, h.keys["alice"]))},
		HostKeyCallback: gossh.FixedHostKey(h.g.HostKey()), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ok, err := s.SendRequest("x11-req", true, gossh.Marshal(struct {
		Single bool
		Proto  string
		Cookie string
		Screen uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0}))
	if err != nil || ok {
		t.Fatalf("x11-req answered ok=%v err=%v", ok, err)
	}
	h.waitRecord(t, audit.Query{Code: audit.CodeSSHRefused, Actor: "alice"}, func(r audit.Record) bool {
		return r.Fields["type"] == "x11-req"
	})
	// A direct-tcpip channel from a Go client is refused too.
	if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
		t.Fatal("port forwarding allowed")
	}
}

func TestBadConfigRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	cfg := "version: 1\nlisten:\n  ssh: \"127.0.0.1:2222\"\ndata_dir: " + dir + "\nroles:\n  - name: r\n    allow:\n      - actions: [\"power.explode\"]\n        bmcs: [\"node[\"]\nusers:\n  - name: a\n    roles: [r]\n    ssh_keys: [\"not a key\"]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := assemble.LoadConfig(path, false)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	msg := err.Error()
	for _, want := range []string{"bad.yaml:8: roles[0].allow[0].actions[0]", "bad.yaml:9: roles[0].allow[0].bmcs[0]", "bad.yaml:13: users[0].ssh_keys[0]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}
