package gateway

import (
	"strings"

	"github.com/bmcgate/bmcgate/internal/keyfile"
	gossh "golang.org/x/crypto/ssh"
)

// loadOrCreateHostKey reads the SSH host key at path, creating an Ed25519
// key there (mode 0600) the first time. A key file readable by group or
// others is refused, as sshd does. The second result reports creation.
func loadOrCreateHostKey(path string) (gossh.Signer, bool, error) {
	return keyfile.LoadOrCreate(path, "host key", "bmcgate host key")
}

// KnownHostsLine is the OpenSSH known_hosts line for a host key served at
// host:port.
func KnownHostsLine(host, port string, k gossh.PublicKey) string {
	h := host
	if port != "22" {
		h = "[" + host + "]:" + port
	}
	return h + " " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k))) + "\n"
}
