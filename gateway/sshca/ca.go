// Package sshca is the gateway's own SSH user certificate authority: an
// Ed25519 key generated once into the data directory, the certificates it
// issued to single sign-on users from the web door (who, from which web
// login, with which roles, until when), and their revocation by serial.
//
// A certificate names one principal, the user, and carries the roles of
// the web login it was issued from in the roles@bmcgate extension. The SSH
// door accepts it only while the registry knows its serial, the web login
// it came from is alive and the serial is not revoked; the service layer
// uses only those of its roles that the current config still grants the
// user. The registry is kept in <data_dir>/ssh_user_certs.json (mode 0600,
// rewritten atomically); revocations are lines appended to
// <data_dir>/ssh_user_certs_revoked by "bmcgate cert revoke", which a
// running gateway picks up within a second.
package sshca

import (
	"fmt"
	"path/filepath"

	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/keyfile"
	gossh "golang.org/x/crypto/ssh"
)

// ExtRoles is the certificate extension holding the roles of the login the
// certificate was issued from, comma-separated.
const ExtRoles = "roles@bmcgate"

// CA is the gateway's user CA key.
type CA struct {
	signer gossh.Signer
}

// LoadOrCreate reads the CA key from the data directory, generating it the
// first time (mode 0600). A key file others can read is refused. The second
// result reports creation.
func LoadOrCreate(dataDir string) (*CA, bool, error) {
	path := filepath.Join(dataDir, datadir.UserCA)
	s, created, err := keyfile.LoadOrCreate(path, "SSH user CA key", "bmcgate user CA")
	if err != nil {
		return nil, false, err
	}
	if s.PublicKey().Type() != gossh.KeyAlgoED25519 {
		return nil, false, fmt.Errorf("SSH user CA key %s: not an Ed25519 key", path)
	}
	return &CA{signer: s}, created, nil
}

// PublicKey is the CA's public key (what ssh.user_ca_keys of another
// gateway, or a TrustedUserCAKeys line, would name).
func (c *CA) PublicKey() gossh.PublicKey { return c.signer.PublicKey() }
