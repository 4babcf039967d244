// Command bmcgate is a secure gateway to the baseboard management
// controllers of a server fleet. Run "bmcgate help" for its subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// exit statuses of the bmcgate binary
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func subcommands() []subcommand {
	return []subcommand{
		{"serve", "run the gateway from a config file", runServe},
		{"demo", "run the gateway in front of a simulated BMC fleet on loopback", runDemo},
		{"config", "check a config file (config check --config FILE)", runConfig},
		{"audit", "verify, search, reindex, replay or export an audit log offline (audit verify|search|reindex|replay|export --data-dir DIR)", runAudit},
		{"scan", "check the config's BMCs for insecure settings (scan --config FILE [--json] [TARGET...])", runScan},
		{"pin", "show a BMC's web certificate and print the line that pins it (pin BMC --config FILE)", runPin},
		{"passwd", "hash a break-glass web password (and make a TOTP secret)", runPasswd},
		{"cert", "revoke or list the SSH certificates the gateway issued (cert revoke SERIAL --data-dir DIR)", runCert},
		{"lock", "lock a user or a role: their sessions end, new ones are refused (lock NAME --data-dir DIR --reason TEXT)", runLock},
		{"unlock", "lift a lock (unlock NAME --data-dir DIR)", runUnlock},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, sc := range subcommands() {
		if sc.name == args[0] {
			return sc.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "bmcgate: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bmcgate COMMAND [flags]\n\ncommands:")
	for _, sc := range subcommands() {
		fmt.Fprintf(w, "  %-8s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintln(w, "\nRun \"bmcgate COMMAND --help\" for a command's flags.")
}

// newFlags makes a flag set whose --help prints to stdout and returns
// flag.ErrHelp.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: bmcgate %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags of a command that takes no positional arguments; it
// returns a status and false when the command should stop (help shown or
// bad flags).
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	pos, code, ok := parseArgs(fs, args, stderr)
	if !ok {
		return code, false
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "bmcgate %s: unexpected argument %q\n", fs.Name(), pos[0])
		return exitUsage, false
	}
	return 0, true
}

// parseArgs parses flags and positional arguments in any order ("audit
// replay --data-dir DIR SESSION" and "audit replay SESSION --data-dir DIR"
// alike; the flag package alone stops at the first positional) and returns
// the positional ones. "--" ends the flags: everything after it is
// positional.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newLogger returns the process logger: text or JSON on stderr.
func newLogger(stderr io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q (text or json)", format)
}
