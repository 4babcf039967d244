package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/bmcgate/bmcgate/gateway/assemble"
	"github.com/bmcgate/bmcgate/gateway/offline"
)

// stdin is what pin, passwd and scan --fix read answers from; tests
// replace it.
var stdin io.Reader = os.Stdin

func runPin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pin", "pin [--ssh] BMC --config FILE", stdout)
	cfgPath := fs.String("config", "", "config file (YAML)")
	sshKey := fs.Bool("ssh", false, "pin the host key of the BMC's SSH console service instead of its certificate")
	pos, code, ok := parseArgs(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || *cfgPath == "" {
		fmt.Fprintln(stderr, "bmcgate pin: usage: bmcgate pin [--ssh] BMC --config FILE")
		return exitUsage
	}
	cfg, err := assemble.LoadConfig(*cfgPath, true)
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate pin: %v\n", err)
		return exitFailed
	}
	if err := offline.Pin(ctx, offline.PinOptions{Config: cfg, BMC: pos[0], In: stdin, Out: stdout, SSH: *sshKey}); err != nil {
		fmt.Fprintf(stderr, "bmcgate pin: %v\n", err)
		return exitFailed
	}
	return exitOK
}
