package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bmcgate/bmcgate/gateway/offline"
	"github.com/bmcgate/bmcgate/internal/datadir"
)

const recordingSyn = "audit replay --data-dir DIR [--speed N] SESSION\n       bmcgate audit export --data-dir DIR [--format asciicast] [--width W] [--height H] SESSION"

// maxReplaySpeed bounds --speed, as the SSH door's audit replay does.
const maxReplaySpeed = 1000

// validSpeed reports whether a replay speed factor is usable: a number (not
// NaN, which every comparison lets through) from 0 to maxReplaySpeed.
func validSpeed(v float64) bool {
	return v >= 0 && v <= maxReplaySpeed
}

// runAuditRecording replays or exports a console recording offline.
func runAuditRecording(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := args[0]
	fs := newFlags("audit "+sub, recordingSyn, stdout)
	dir := fs.String("data-dir", "", "bmcgate data directory (holds "+datadir.AuditDB+")")
	speed := fs.Float64("speed", 1, "replay speed factor; 0 plays without pauses")
	format := fs.String("format", "", "export format: asciicast (asciinema v2, the default and only one)")
	width := fs.Int("width", 80, "terminal width written in the asciicast header")
	height := fs.Int("height", 24, "terminal height written in the asciicast header")
	pos, code, ok := parseArgs(fs, args[1:], stderr)
	if !ok {
		return code
	}
	if *dir == "" || len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: bmcgate "+recordingSyn)
		return exitUsage
	}
	if sub == "export" && *format != "" && *format != "asciicast" {
		fmt.Fprintln(stderr, "bmcgate audit export: --format must be asciicast (the default)")
		return exitUsage
	}
	if !validSpeed(*speed) {
		fmt.Fprintf(stderr, "bmcgate audit replay: --speed must be a number from 0 (no pauses) to %d\n", maxReplaySpeed)
		return exitUsage
	}
	rec, err := offline.ConsoleRecording(ctx, *dir, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate: %v\n", err)
		return exitFailed
	}
	if sub == "replay" {
		err = rec.Replay(ctx, stdout, *speed)
	} else {
		err = rec.WriteAsciicast(stdout, *width, *height)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bmcgate: %v\n", err)
		return exitFailed
	}
	return exitOK
}
