package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "version", stdout)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "bmcgate %s\n", v)
	return exitOK
}

func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "usage: bmcgate config check --config FILE [--skip-secrets]")
			return exitOK
		}
		fmt.Fprintln(stderr, "usage: bmcgate config check --config FILE [--skip-secrets]")
		return exitUsage
	}
	fs := newFlags("config check", "config check --config FILE [--skip-secrets]", stdout)
	path := fs.String("config", "", "config file to check")
	skip := fs.Bool("skip-secrets", false, "do not read BMC password files or variables (checking a config away from its secrets)")
	if code, ok := parse(fs, args[1:], stderr); !ok {
		return code
	}
	if *path == "" {
		fmt.Fprintln(stderr, "bmcgate config check: --config is required")
		return exitUsage
	}
	cfg, err := assemble.LoadConfig(*path, *skip)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	note := ""
	if *skip {
		note = " (secrets not checked)"
	}
	fmt.Fprintf(stdout, "%s: OK: %d users, %d roles, %d BMCs%s\n", *path, len(cfg.Users), len(cfg.Roles), len(cfg.BMCs), note)
	return exitOK
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const syn = "audit verify --data-dir DIR [--expect-head SEQ:HASH] [--json]\n       bmcgate audit reindex --data-dir DIR\n       bmcgate audit search --data-dir DIR [--user U] [--bmc B] [--action A] [--outcome O] [--code C] [--since T] [--until T] [--limit N] [--newest] [--after SEQ|--before SEQ] [--json]\n       bmcgate " + recordingSyn
	if len(args) > 0 && (args[0] == "replay" || args[0] == "export") {
		return runAuditRecording(ctx, args, stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "verify" && args[0] != "search" && args[0] != "reindex") {
		w, code := stderr, exitUsage
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			w, code = stdout, exitOK
		}
		fmt.Fprintln(w, "usage: bmcgate "+syn)
		return code
	}
	fs := newFlags("audit "+args[0], syn, stdout)
	dir := fs.String("data-dir", "", "bmcgate data directory (holds "+datadir.AuditDB+")")
	if args[0] == "reindex" {
		if code, ok := parse(fs, args[1:], stderr); !ok {
			return code
		}
		if *dir == "" {
			fmt.Fprintln(stderr, "bmcgate audit reindex: --data-dir is required")
			return exitUsage
		}
		if err := offline.ReindexAudit(ctx, *dir, stdout); err != nil {
			fmt.Fprintf(stderr, "bmcgate: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	asJSON := fs.Bool("json", false, "machine-readable output")
	if args[0] == "verify" {
		head := fs.String("expect-head", "", "a head printed earlier (SEQ:HASH); detects records removed from the end")
		if code, ok := parse(fs, args[1:], stderr); !ok {
			return code
		}
		if *dir == "" {
			fmt.Fprintln(stderr, "bmcgate audit verify: --data-dir is required")
			return exitUsage
		}
		anchor, err := offline.ParseAnchor(*head)
		if err != nil {
			fmt.Fprintf(stderr, "bmcgate audit verify: %v\n", err)
			return exitUsage
		}
		if err := offline.VerifyAudit(ctx, *dir, anchor, *asJSON, stdout); err != nil {
			if !errors.Is(err, offline.ErrVerifyFailed) {
				fmt.Fprintf(stderr, "bmcgate: %v\n", err)
			}
			return exitFailed
		}
		return exitOK
	}
	var q audit.Query
	fs.StringVar(&q.Actor, "user", "", "user")
	fs.StringVar(&q.Target, "bmc", "", "BMC name or glob")
	fs.StringVar(&q.Action, "action", "", "action or glob (power.*)")
	fs.StringVar(&q.Outcome, "outcome", "", "allow, deny, ok, error, fail")
	fs.StringVar(&q.Code, "code", "", "record code or glob (auth.login, console.*)")
	fs.StringVar(&q.Session, "session", "", "session id")
	since := fs.String("since", "", "RFC 3339 time, date, or duration ago (2h)")
	until := fs.String("until", "", "RFC 3339 time, date, or duration ago")
	fs.IntVar(&q.Limit, "limit", 1000, "maximum records")
	fs.BoolVar(&q.Newest, "newest", false, "newest first")
	fs.Uint64Var(&q.AfterSeq, "after", 0, "only records after record SEQ (the next page of an oldest-first search)")
	fs.Uint64Var(&q.BeforeSeq, "before", 0, "only records before record SEQ (the next page of a --newest search)")
	if code, ok := parse(fs, args[1:], stderr); !ok {
		return code
	}
	if *dir == "" {
		fmt.Fprintln(stderr, "bmcgate audit search: --data-dir is required")
		return exitUsage
	}
	var err error
	if q.Since, err = optionalTime(*since, time.Now()); err != nil {
		fmt.Fprintf(stderr, "bmcgate audit search: --since: %v\n", err)
		return exitUsage
	}
	if q.Until, err = optionalTime(*until, time.Now()); err != nil {
		fmt.Fprintf(stderr, "bmcgate audit search: --until: %v\n", err)
		return exitUsage
	}
	page, err := offline.SearchAudit(ctx, *dir, q, *asJSON, stdout)
	if errors.Is(err, audit.ErrInvalidQuery) {
		fmt.Fprintf(stderr, "bmcgate audit search: %v\n", err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate: %v\n", err)
		return exitFailed
	}
	if !*asJSON && page.Records == 0 {
		fmt.Fprintln(stderr, "no matching records")
	}
	if hint := service.MoreHint(q, page); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	return exitOK
}

// optionalTime reads a --since/--until time (the documented forms of
// service.ParseTime); an empty flag is the zero time: no bound.
func optionalTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return service.ParseTime(s, now)
}
