package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bmcgate/bmcgate/gateway/locks"
)

func runLock(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const syn = "lock USER|ROLE --data-dir DIR [--for 1h] --reason TEXT"
	fs := newFlags("lock", syn, stdout)
	dir := fs.String("data-dir", "", "bmcgate data directory (of a running gateway too)")
	dur := fs.Duration("for", 0, "how long the lock lasts (default: until bmcgate unlock)")
	reason := fs.String("reason", "", "why (shown to the user and recorded in the audit log)")
	pos, code, ok := parseArgs(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || *dir == "" || *reason == "" || *dur < 0 {
		fmt.Fprintln(stderr, "bmcgate lock: usage: bmcgate "+syn)
		return exitUsage
	}
	if err := locks.Set(*dir, pos[0], *dur, *reason, time.Now()); err != nil {
		fmt.Fprintf(stderr, "bmcgate lock: %v\n", err)
		return exitFailed
	}
	until := "until bmcgate unlock"
	if *dur > 0 {
		until = "for " + dur.String()
	}
	fmt.Fprintf(stdout, "locked %s %s: a running gateway ends their sessions within a second\n", pos[0], until)
	return exitOK
}

func runUnlock(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const syn = "unlock USER|ROLE --data-dir DIR [--reason TEXT]"
	fs := newFlags("unlock", syn, stdout)
	dir := fs.String("data-dir", "", "bmcgate data directory (of a running gateway too)")
	reason := fs.String("reason", "", "why (recorded in the audit log)")
	pos, code, ok := parseArgs(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || *dir == "" {
		fmt.Fprintln(stderr, "bmcgate unlock: usage: bmcgate "+syn)
		return exitUsage
	}
	if err := locks.Lift(*dir, pos[0], *reason, time.Now()); err != nil {
		fmt.Fprintf(stderr, "bmcgate unlock: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "unlocked %s\n", pos[0])
	return exitOK
}
