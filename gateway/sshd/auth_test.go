package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
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

func TestCheckKey(t *testing.T) {
	alice, bob, stranger := newSigner(t), newSigner(t), newSigner(t)
	ca, otherCA := newSigner(t), newSigner(t)
	dir := NewDirectory([]User{
		{Name: "alice", Keys: []gossh.PublicKey{alice.PublicKey()}},
		{Name: "bob", Keys: []gossh.PublicKey{bob.PublicKey()}},
		{Name: "carol", Disabled: true, Keys: []gossh.PublicKey{stranger.PublicKey()}},
	}, []gossh.PublicKey{ca.PublicKey()})
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
	}{
		{name: "own key", dir: dir, user: "alice", key: alice.PublicKey(), wantOK: true, wantAuth: "publickey SHA256:"},
		{name: "another user's key", dir: dir, user: "alice", key: bob.PublicKey(), wantWhy: "not authorized"},
		{name: "unknown user", dir: dir, user: "mallory", key: alice.PublicKey(), wantWhy: "unknown"},
		{name: "disabled user", dir: dir, user: "carol", key: stranger.PublicKey(), wantWhy: "disabled"},
		{name: "case trick", dir: dir, user: "Alice", key: alice.PublicKey(), wantWhy: "unknown"},
		{name: "valid cert", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), nil), wantOK: true, wantAuth: "certificate"},
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
		}), wantOK: true},
		{name: "source-address refuses", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["source-address"] = "10.0.0.0/8"
		}), wantWhy: "source-address"},
		{name: "force-command carried", dir: dir, user: "alice", key: certFor(t, ca, stranger.PublicKey(), func(c *gossh.Certificate) {
			c.CriticalOptions["force-command"] = "power status node01"
		}), wantOK: true, force: "power status node01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perms, why := tt.dir.checkKey(tt.user, tt.key, remote, now)
			if tt.wantOK != (perms != nil) {
				t.Fatalf("checkKey ok=%v (why %q), want %v", perms != nil, why, tt.wantOK)
			}
			if !tt.wantOK {
				if !strings.Contains(why, tt.wantWhy) {
					t.Fatalf("reason %q does not mention %q", why, tt.wantWhy)
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
		})
	}
}
