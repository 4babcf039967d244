package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/gateway/sshca"
)

func runCert(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const syn = "cert revoke SERIAL --data-dir DIR [--reason TEXT]\n       bmcgate cert list --data-dir DIR"
	if len(args) == 0 || (args[0] != "revoke" && args[0] != "list") {
		w, code := stderr, exitUsage
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			w, code = stdout, exitOK
		}
		fmt.Fprintln(w, "usage: bmcgate "+syn)
		return code
	}
	sub := args[0]
	fs := newFlags("cert "+sub, syn, stdout)
	dir := fs.String("data-dir", "", "bmcgate data directory (of a running gateway too)")
	reason := fs.String("reason", "", "why the certificate is revoked (recorded in the audit log)")
	pos, code, ok := parseArgs(fs, args[1:], stderr)
	if !ok {
		return code
	}
	if *dir == "" {
		fmt.Fprintf(stderr, "bmcgate cert %s: --data-dir is required\n", sub)
		return exitUsage
	}
	if sub == "list" {
		return certList(*dir, stdout, stderr)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "bmcgate cert revoke: usage: bmcgate cert revoke SERIAL --data-dir DIR [--reason TEXT]")
		return exitUsage
	}
	serial, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || serial == 0 {
		fmt.Fprintf(stderr, "bmcgate cert revoke: %q is not a certificate serial (a positive decimal number, as the SSH access page and cert list show)\n", pos[0])
		return exitUsage
	}
	if err := sshca.Revoke(*dir, serial, *reason, time.Now()); err != nil {
		fmt.Fprintf(stderr, "bmcgate cert revoke: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "revoked certificate %d: a running gateway ends its sessions within a second\n", serial)
	return exitOK
}

func certList(dir string, stdout, stderr io.Writer) int {
	certs, err := sshca.List(dir)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate cert list: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%-20s  %-16s  %-20s  %-51s  %s\n", "SERIAL", "USER", "VALID UNTIL", "KEY", "STATE")
	for _, c := range certs {
		state := "usable"
		if c.Ended != "" {
			state = c.Ended
		}
		fmt.Fprintf(stdout, "%-20d  %-16s  %-20s  %-51s  %s\n", c.Serial, c.User, c.ValidBefore.UTC().Format(time.RFC3339), c.Fingerprint, strings.ReplaceAll(state, "\n", " "))
	}
	return exitOK
}
