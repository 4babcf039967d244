package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmcgate/bmcgate/proxy/scan"
)

// SecretsDirName is the gateway's secret store inside the data directory:
// one file per BMC account whose password bmcgate set, mode 0600, written
// atomically. A BMC's ipmi.password_file may point at one of them.
const SecretsDirName = "secrets"

// SecretPath is the file that holds the password bmcgate set for user on
// the BMC named bmc.
func SecretPath(dataDir, bmc, user string) (string, error) {
	for _, part := range []string{bmc, user} {
		if part == "" || strings.HasPrefix(part, ".") || strings.Trim(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return "", fmt.Errorf("secret store: %q cannot name a file", part)
		}
	}
	return filepath.Join(dataDir, SecretsDirName, bmc+"."+user+".password"), nil
}

// secretSaver stores new passwords of one BMC's accounts in the secret
// store.
func secretSaver(dataDir, bmc string) scan.SecretSaver {
	return func(user, password string) (string, error) {
		path, err := SecretPath(dataDir, bmc, user)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fmt.Errorf("secret store: %w", err)
		}
		if err := writeFileAtomic(path, []byte(password+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("secret store: %w", err)
		}
		return path, nil
	}
}
