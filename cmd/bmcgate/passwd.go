package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
	"golang.org/x/term"
)

// runPasswd makes an argon2id hash for a break-glass account's
// password_hash and, with --totp-file, a new TOTP secret file.
func runPasswd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("passwd", "passwd [--stdin] [--totp-file FILE]", stdout)
	fromStdin := fs.Bool("stdin", false, "read the password from the first line of standard input (no prompt, no confirmation)")
	totpFile := fs.String("totp-file", "", "also write a new TOTP secret (base32) to this new file, mode 0600, for totp_secret_file")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	pw, err := readNewPassword(*fromStdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate passwd: %v\n", err)
		return exitFailed
	}
	hash, err := breakglass.HashPassword(pw, breakglass.DefaultParams)
	clear(pw)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate passwd: %v\n", err)
		return exitFailed
	}
	if *totpFile != "" {
		if err := writeTOTPFile(*totpFile); err != nil {
			fmt.Fprintf(stderr, "bmcgate passwd: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "wrote a new TOTP secret to %s: add it to the account owner's authenticator app (SHA1, 6 digits, 30 s), then keep the file readable by bmcgate only\n", *totpFile)
	}
	fmt.Fprintln(stdout, hash)
	return exitOK
}

// readNewPassword reads a password from the terminal twice (no echo), or
// once from stdin.
func readNewPassword(fromStdin bool, stderr io.Writer) ([]byte, error) {
	f, isFile := stdin.(*os.File)
	if fromStdin || !isFile || !term.IsTerminal(int(f.Fd())) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read password: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil, errors.New("empty password")
		}
		return []byte(line), nil
	}
	fmt.Fprint(stderr, "New password: ")
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(stderr, "Again: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if string(a) != string(b) {
		return nil, errors.New("the passwords differ")
	}
	clear(b)
	return a, nil
}

// writeTOTPFile writes a new TOTP secret to a file that must not exist.
func writeTOTPFile(path string) error {
	_, secret, err := breakglass.NewKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("totp file: %w", err)
	}
	if _, err := fmt.Fprintln(f, secret); err != nil {
		_ = f.Close()
		return fmt.Errorf("totp file: %w", err)
	}
	return f.Close()
}
