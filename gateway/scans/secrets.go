package scans

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/proxy/scan"
)

// SecretSaver stores new passwords of one BMC's accounts in the secret
// store.
func SecretSaver(dataDir, bmc string) scan.SecretSaver {
	return func(user, password string) (string, error) {
		path, err := datadir.Secret(dataDir, bmc, user)
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
