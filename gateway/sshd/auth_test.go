package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// certFor signs a user certificate for key with ca; mutate adjusts it first.
func certFor(t *testing.T, ca gossh.Signer, key gossh.PublicKey, mutate func(*gossh.Certificate)) *gossh.Certificate {
	t.Helper()
	now := time.Now()
	c := &gossh.Certificate{
		Key: key, Serial: 7, CertType: gossh.UserCert, KeyId: "alice@laptop",
		ValidPrincipals: []string{"alice"},
		ValidAfter:      uint64(now.Add(-time.Hour).Unix()),
		ValidBefore:     uint64(now.Add(time.Hour).Unix()),
		Permissions:     gossh.Permissions{CriticalOptions: map[string]string{}, Extensions: map[string]string{}},
	}
	if mutate != nil {
		mutate(c)
	}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return c
}

func rsaSigner(t *testing.T, bits int) gossh.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sha1Signer signs with ssh-rsa (RSA with SHA-1) only.
func sha1Signer(t *testing.T, s gossh.Signer) gossh.Signer {
	t.Helper()
	ms, err := gossh.NewSignerWithAlgorithms(s.(gossh.AlgorithmSigner), []string{gossh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestCheckKey(t *testing.T) {
	alice, bob, stranger := newSigner(t), newSigner(t), newSigner(t)
	ca, otherCA := newSigner(t), newSigner(t)
	rsaCA, weakCA := rsaSigner(t, 2048), rsaSigner(t, 1024)
	weakKey := rsaSigner(t, 1024)
	dir := NewDirectory([]User{
		{Name: "alice", Keys: []gossh.PublicKey{alice.PublicKey()}},
		{Name: "bob", Keys: []gossh.PublicKey{bob.PublicKey()}},
		{Name: "carol", Disabled: true, Keys: []gossh.PublicKey{stranger.PublicKey()}},
	}, []gossh.PublicKey{ca.PublicKey(), rsaCA.PublicKey(), weakCA.PublicKey()})
	pty := func(c *gossh.Certificate) { c.Extensions["permit-pty"] = "" }
	noCA := NewDirectory([]User{{Name: "alice", Keys: []gossh.PublicKey{alice.PublicKey()}}}, nil)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}
	now := time.Now()

	tests := []struct {
		name     string
		dir      *Directory
		user     string
		key      gossh.PublicKey
		wantOK   bool
		wantWhy  string
		wantAuth string
		force    string
		noPTY    bool
	}{
		{name: "own key", dir: dir, user: "alice", key: alice.PublicKey(), wantOK: true, wantAuth: "publickey SHA256:"},
		{name: "another user's key", dir: dir, user: "alice", key: bob.PublicKey(), wantWhy: "not authorized"},
		{name: "unknown user", dir: dir, user: "mallory", key: alice.PublicKey(), wantWhy: "unknown"},
		{name: "disabled user", dir: dir, user: "carol", key: stranger.PublicKey(), wantWhy: "disabled"},
		{name: "case trick", dir: dir, user: "Alice", key: alice.PublicKey(), wantWhy: "unknown"},
		{name: "valid cert", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), pty), wantOK: true, wantAuth: "certificate"},
		{name: "cert without permit-pty", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), nil), wantOK: true, wantAuth: "certificate", noPTY: true},
		{name: "cert over an RSA-1024 key", dir: dir, user: "alice", key: certFor(t, ca, weakKey.PublicKey(), pty), wantWhy: "RSA key of 1024 bits is too weak"},
		{name: "cert from an RSA-1024 CA", dir: dir, user: "alice", key: certFor(t, weakCA, stranger.PublicKey(), pty), wantWhy: "the CA key: RSA key of 1024 bits"},
		{name: "cert signed with SHA-1", dir: dir, user: "alice", key: certFor(t, sha1Signer(t, rsaCA), stranger.PublicKey(), pty), wantWhy: "SHA-1"},
		{name: "cert signed with rsa-sha2-512", dir: dir, user: "alice", key: certFor(t, rsaCA, stranger.PublicKey(), pty), wantOK: true, wantAuth: "certificate"},
		{name: "cert without CA configured", dir: noCA, user: "alice", key: certFor(t, ca, stranger.PublicKey(), nil), wantWhy: "no user CA"},
		{name: "cert from other CA", dir: dir, user: "alice", key: certFor(t, otherCA, stranger.PublicKey(), nil), wantWhy: "unknown CA"},
		{name: "cert for other principal", dir: dir, user: "bob", key: certFor(t, ca, stranger.PublicKey(), nil), wantWhy: "principal"},
		{name: "cert expired", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.ValidBefore = uint64(now.Add(-time.Minute).Unix())
		}), wantWhy: "expired"},
		{name: "cert not yet valid", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.ValidAfter = uint64(now.Add(time.Hour).Unix())
		}), wantWhy: "not yet valid"},
		{name: "host cert", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CertType = gossh.HostCert
		}), wantWhy: "not a user certificate"},
		{name: "unknown critical option", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["verify-required"] = ""
		}), wantWhy: "critical option"},
		{name: "source-address matches", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["source-address"] = "10.0.0.0/8,127.0.0.1/32"
			pty(c)
		}), wantOK: true},
		{name: "source-address refuses", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["source-address"] = "10.0.0.0/8"
		}), wantWhy: "source-address"},
		{name: "force-command carried", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["force-command"] = "power status node01"
			pty(c)
		}), wantOK: true, force: "power status node01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perms, why := tt.dir.checkKey(tt.user, tt.key, remote, now)
			if tt.wantOK != (perms != nil) {
				t.Fatalf("checkKey ok=%v (why %q), want %v", perms != nil, why, tt.wantOK)
			}
			if !tt.wantOK {
				if !strings.Contains(why.reason, tt.wantWhy) || why.class == "" || strings.Contains(why.class, "SHA256:") {
					t.Fatalf("refusal %+v does not mention %q, or has no stable class", why, tt.wantWhy)
				}
				return
			}
			if perms.Extensions[extUser] != tt.user {
				t.Errorf("user extension = %q", perms.Extensions[extUser])
			}
			if !strings.HasPrefix(perms.Extensions[extAuth], tt.wantAuth) {
				t.Errorf("auth extension = %q, want prefix %q", perms.Extensions[extAuth], tt.wantAuth)
			}
			if perms.Extensions[extForceCommand] != tt.force {
				t.Errorf("force-command = %q, want %q", perms.Extensions[extForceCommand], tt.force)
			}
			if got := perms.Extensions[extNoPTY] != ""; got != tt.noPTY {
				t.Errorf("no-pty = %v, want %v", got, tt.noPTY)
			}
		})
	}
}
