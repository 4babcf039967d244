package configs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bmcgate/bmcgate/internal/oserr"
)

// maxPasswordFile bounds how much of a password file is read.
const maxPasswordFile = 4096

// readPasswordFile reads a BMC password from a file that must be a regular
// file readable by its owner only (mode & 0o077 == 0). One trailing newline
// is stripped. Errors name neither the file's content nor, since the field
// position already identifies it, the path.
func readPasswordFile(path string) (string, error) {
	// Stat before opening: opening a FIFO would block.
	before, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the password file: %w", oserr.PathCause(err))
	}
	if !before.Mode().IsRegular() {
		return "", errors.New("the password file is not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot open the password file: %w", oserr.PathCause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot stat the password file: %w", oserr.PathCause(err))
	}
	if !fi.Mode().IsRegular() || !os.SameFile(before, fi) {
		return "", errors.New("the password file changed while it was read")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("the password file is readable or writable by group or others (mode %04o): chmod 600 it", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read the password file: %w", oserr.PathCause(err))
	}
	if len(data) > maxPasswordFile {
		return "", errors.New("the password file is too large to hold a password")
	}
	s := string(data)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	return s, nil
}

// readPasswordEnv reads a BMC password from an environment variable.
func readPasswordEnv(name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", errors.New("the environment variable is not set")
	}
	return v, nil
}

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
