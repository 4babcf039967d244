package sshca

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkIssue is the issuance of one certificate by the registry (the
// signature, the bounds and the durable rewrite of the registry file) with
// an empty registry and with 1,000 live certificates of other users, beside
// the Ed25519 signature alone and OpenSSH's ssh-keygen -s signing the same
// kind of certificate with the same CA key, one process per certificate.
//
// Run: go test -run '^$' -bench Issue ./gateway/sshca/
func BenchmarkIssue(b *testing.B) {
	ipmisim.RequireBinaries(b, "ssh-keygen")
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	key, err := gossh.NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	for _, held := range []int{0, 1000} {
		b.Run(fmt.Sprintf("registry-%d", held), func(b *testing.B) {
			r := benchRegistry(b, held, key)
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%MaxPerUser == 0 {
					b.StopTimer()
					r = benchRegistry(b, held, key)
					b.StartTimer()
				}
				if _, _, err := r.Issue(Request{User: "alice", Key: key, Roles: []string{"admin"}, Login: "L", Lifetime: 8 * time.Hour}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
		})
	}
	b.Run("sign-only", func(b *testing.B) {
		ca, _, err := LoadOrCreate(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		signer, err := gossh.NewSignerWithAlgorithms(ca.signer.(gossh.AlgorithmSigner), []string{gossh.KeyAlgoED25519})
		if err != nil {
			b.Fatal(err)
		}
		for i := range b.N {
			c := &gossh.Certificate{Key: key, Serial: uint64(i), CertType: gossh.UserCert, ValidPrincipals: []string{"alice"},
				ValidBefore: uint64(time.Now().Add(8 * time.Hour).Unix())}
			if err := c.SignCert(rand.Reader, signer); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	})
	b.Run("ssh-keygen", func(b *testing.B) {
		dir := b.TempDir()
		if _, _, err := LoadOrCreate(dir); err != nil {
			b.Fatal(err)
		}
		pubFile := filepath.Join(dir, "user.pub")
		if err := os.WriteFile(pubFile, gossh.MarshalAuthorizedKey(key), 0o600); err != nil {
			b.Fatal(err)
		}
		for i := range b.N {
			out, err := exec.Command("ssh-keygen", "-q", "-s", filepath.Join(dir, datadir.UserCA), "-I", "bench",
				"-n", "alice", "-V", "+8h", "-z", fmt.Sprint(i+1), pubFile).CombinedOutput()
			if err != nil {
				b.Fatalf("ssh-keygen: %v: %s", err, out)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	})
}

// benchRegistry is a registry in a new directory holding held live
// certificates of other users.
func benchRegistry(b *testing.B, held int, key gossh.PublicKey) *Registry {
	b.Helper()
	dir := b.TempDir()
	ca, _, err := LoadOrCreate(dir)
	if err != nil {
		b.Fatal(err)
	}
	r, err := Open(ca, dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range held {
		s := uint64(i + 1)
		r.certs[s] = &Cert{Serial: s, User: fmt.Sprintf("u%04d", i), KeyID: fmt.Sprintf("bmcgate:u%04d:%d", i, s),
			Fingerprint: gossh.FingerprintSHA256(key), ValidAfter: now, ValidBefore: now.Add(8 * time.Hour), Roles: []string{"viewer"}, Login: "L"}
	}
	return r
}
