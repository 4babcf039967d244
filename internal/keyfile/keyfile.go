// Package keyfile reads and creates the gateway's own private SSH keys
// (the host key, the user CA key): Ed25519, created once with mode 0600,
// and refused when others can read them, as sshd refuses such keys.
package keyfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// LoadOrCreate reads the private key at path, creating an Ed25519 key there
// (mode 0600, its directory 0700) the first time, with comment inside. The
// second result reports creation. what names the key in errors.
func LoadOrCreate(path, what, comment string) (gossh.Signer, bool, error) {
	data, err := ReadPrivate(path)
	created := false
	if errors.Is(err, fs.ErrNotExist) {
		if err = create(path, what, comment); err != nil {
			return nil, false, err
		}
		created = true
		data, err = ReadPrivate(path)
	}
	if err != nil {
		return nil, false, err
	}
	s, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return s, created, nil
}

// ReadPrivate reads a secret file, refusing one that others can read.
func ReadPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: permissions %#o are too open; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	return os.ReadFile(path)
}

func create(path, what, comment string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate %s: %w", what, err)
	}
	block, err := gossh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s directory: %w", what, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	if err := pem.Encode(f, block); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", what, err)
	}
	return f.Close()
}

// WritePrivate replaces the secret file at path with data atomically
// (a temporary file beside it, synced, then renamed), mode 0600.
func WritePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// CreatePrivate writes data to a new secret file at path, mode 0600,
// failing with fs.ErrExist if one is there already, so that two processes
// creating the same key never replace each other's.
func CreatePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
