package sshca

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	gossh "golang.org/x/crypto/ssh"
)

func testKey(t *testing.T) gossh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestRegistryLifecycle issues, ends and revokes certificates and reads
// the registry back as a restarted gateway and the offline list do.
func TestRegistryLifecycle(t *testing.T) {
	dir := t.TempDir()
	ca, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("CA: %v created %v", err, created)
	}
	if fi, err := os.Stat(filepath.Join(dir, datadir.UserCA)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key file: %v %v", fi, err)
	}
	var ended []Cert
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r, err := Open(ca, dir, Options{Now: func() time.Time { return now }, OnEnd: func(c []Cert) { ended = append(ended, c...) }})
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	cert, rec, err := r.Issue(Request{User: "alice", Key: key, Roles: []string{"admin", "viewer"}, Groups: []string{"ops"}, Login: "L1", Lifetime: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	checker := gossh.CertChecker{Clock: func() time.Time { return now }}
	if err := checker.CheckCert("alice", cert); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if cert.Extensions[ExtRoles] != "admin,viewer" || cert.ValidBefore != uint64(now.Add(2*time.Hour).Unix()) || rec.Fingerprint != gossh.FingerprintSHA256(key) {
		t.Fatalf("certificate %+v record %+v", cert, rec)
	}
	if g, why := r.Standing(rec.Serial); why != "" || len(g) != 1 || g[0] != "ops" {
		t.Fatalf("standing: %v %q", g, why)
	}
	if _, why := r.Standing(rec.Serial + 1); why == "" {
		t.Fatal("an unknown serial stands")
	}
	r.SetGroups("L1", []string{"viewers"})
	if g, _ := r.Standing(rec.Serial); g[0] != "viewers" {
		t.Fatalf("groups after refresh: %v", g)
	}
	_, rec2, _ := r.Issue(Request{User: "alice", Key: key, Roles: []string{"viewer"}, Login: "L2", Lifetime: time.Hour})
	r.EndLogin("L1", "the web login ended")
	if _, why := r.Standing(rec.Serial); why != "the web login ended" || len(ended) != 1 || ended[0].Serial != rec.Serial {
		t.Fatalf("after EndLogin: %q %v", why, ended)
	}
	if !r.Live("L2") || r.Live("L1") {
		t.Fatal("Live")
	}

	if err := Revoke(dir, rec2.Serial, "laptop\tlost\n", now); err != nil {
		t.Fatal(err)
	}
	r.CheckRevocations()
	if _, why := r.Standing(rec2.Serial); why != "the certificate was revoked: laptop lost" || len(ended) != 2 {
		t.Fatalf("after revoke: %q %v", why, ended)
	}
	r.CheckRevocations() // unchanged file: nothing new
	if len(ended) != 2 {
		t.Fatalf("revocation reported twice: %v", ended)
	}

	// A restarted gateway and the offline list read the same state.
	r2, err := Open(ca, dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, why := r2.Standing(rec2.Serial); !strings.Contains(why, "revoked") {
		t.Fatalf("restarted: %q", why)
	}
	list, err := List(dir)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, datadir.UserCerts)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("registry file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, datadir.UserCerts))
	if strings.Contains(string(data), "AAAA") {
		t.Fatal("the registry holds key material")
	}
	// Expiry: the certificate stops standing.
	now = now.Add(3 * time.Hour)
	_, rec3, _ := r.Issue(Request{User: "bob", Key: key, Roles: []string{"viewer"}, Login: "L3", Lifetime: time.Minute})
	now = now.Add(2 * time.Minute)
	if _, why := r.Standing(rec3.Serial); why != "the certificate expired" {
		t.Fatalf("expired: %q", why)
	}
}

// TestIssueBounded: a user holds at most MaxPerUser unexpired certificates.
func TestIssueBounded(t *testing.T) {
	dir := t.TempDir()
	ca, _, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ca, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	for i := range MaxPerUser + 1 {
		_, _, err := r.Issue(Request{User: "alice", Key: key, Roles: []string{"viewer"}, Login: "L", Lifetime: time.Hour})
		if (i == MaxPerUser) != (err == ErrTooMany) {
			t.Fatalf("certificate %d: %v", i, err)
		}
	}
}
