package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// maxReplaySpeed bounds --speed.
const maxReplaySpeed = 1000

// rawOut is the session's output without newline translation: recordings
// are written byte for byte.
func (e *env) rawOut() io.Writer {
	if e.sess != nil {
		return e.sess.ch
	}
	return e.out
}

// loadRecording collects a console recording through the caller's
// audit.read permission.
func loadRecording(e *env, id string) (*audit.Recording, int) {
	search := func(ctx context.Context, q audit.Query, fn func(audit.Record) error) error {
		return e.srv.svc.AuditSearch(ctx, e.caller, q, fn)
	}
	rec, err := audit.LoadRecording(e.ctx, search, id)
	if errors.Is(err, audit.ErrNotFound) {
		fmt.Fprintf(e.errw, "bmcgate: no console recording for %s\n", quoted(id))
		return nil, exitFailed
	}
	if err != nil {
		var ue *service.UserError
		if !errors.As(err, &ue) {
			err = &service.UserError{Msg: "the recording could not be read", Err: err}
		}
		return nil, e.fail(err)
	}
	return rec, exitOK
}

// auditReplay plays a console recording to the terminal.
func auditReplay(e *env, p parsed) int {
	speed := 1.0
	if p.has("speed") {
		v, err := strconv.ParseFloat(p.get("speed"), 64)
		if err != nil || !(v >= 0 && v <= maxReplaySpeed) { // NaN fails both
			fmt.Fprintf(e.errw, "bmcgate: --speed must be a number from 0 (no pauses) to %d\n", maxReplaySpeed)
			return exitUsage
		}
		speed = v
	}
	rec, code := loadRecording(e, p.args[1])
	if rec == nil {
		return code
	}
	if err := rec.Replay(e.ctx, e.rawOut(), speed); err != nil {
		return exitFailed
	}
	return exitOK
}

// auditExport writes a console recording in another format.
func auditExport(e *env, p parsed) int {
	if f := p.get("format"); f != "asciicast" {
		fmt.Fprintln(e.errw, "bmcgate: --format asciicast is the supported export format")
		return exitUsage
	}
	rec, code := loadRecording(e, p.args[1])
	if rec == nil {
		return code
	}
	cols, rows := 80, 24
	if e.sess != nil {
		e.sess.mu.Lock()
		if e.sess.win.cols > 0 {
			cols, rows = e.sess.win.cols, e.sess.win.rows
		}
		e.sess.mu.Unlock()
	}
	if err := rec.WriteAsciicast(e.rawOut(), cols, rows); err != nil {
		return exitFailed
	}
	return exitOK
}
