package bmcssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// runSteps runs the profile's steps over the session's output r and input
// w. Each step is bounded by its timeout (abort closes the connection, so
// a pending read returns) and by maxOutput bytes read without a match. It
// returns the output after the last match: the console's first bytes.
func runSteps(ctx context.Context, name string, p *compiled, r io.Reader, w io.Writer, o Options, abort func(error)) ([]byte, error) {
	buf := make([]byte, 4096)
	var window []byte // output since the last match, the last expectWindow bytes
	for i, s := range p.steps {
		timeout := s.timeout
		if timeout == 0 {
			timeout = o.StepTimeout
		}
		var fired atomic.Bool
		stepErr := func(msg string, err error) error {
			return &Error{Kind: KindStep, BMC: name, Msg: fmt.Sprintf("profile %s, step %d: %s", p.Name, i+1, msg), Err: err}
		}
		timer := time.AfterFunc(timeout, func() {
			fired.Store(true)
			abort(stepErr(fmt.Sprintf("no %q within %v", p.Steps[i].Expect, timeout), nil))
		})
		err := func() error {
			if s.send != nil {
				if _, err := w.Write(s.send); err != nil {
					return err
				}
			}
			if s.expect == nil {
				return nil
			}
			read := 0
			for {
				if p.busy != nil && p.busy.Match(window) {
					return &Error{Kind: KindBusy, BMC: name, Msg: "the BMC says another client holds its console", Err: fmt.Errorf("profile %s, step %d: output %s", p.Name, i+1, excerpt(window))}
				}
				if loc := s.expect.FindIndex(window); loc != nil {
					window = append(window[:0], window[loc[1]:]...)
					return nil
				}
				if read >= o.MaxStepOutput {
					return stepErr(fmt.Sprintf("no %q within %d bytes of output", p.Steps[i].Expect, o.MaxStepOutput), fmt.Errorf("last output %s", excerpt(window)))
				}
				if len(window) > expectWindow {
					window = append(window[:0], window[len(window)-expectWindow:]...)
				}
				n, err := r.Read(buf[:min(len(buf), o.MaxStepOutput-read)])
				if fired.Load() || ctx.Err() != nil {
					return errStepAborted // output buffered before the cut is not read on
				}
				read += n
				window = append(window, buf[:n]...)
				if err != nil && n == 0 {
					return err
				}
			}
		}()
		timer.Stop()
		switch {
		case err == nil:
			continue
		case fired.Load() || ctx.Err() != nil:
			return nil, err // the caller takes the cause abort recorded
		case KindOf(err) != 0:
			return nil, err
		case err == io.EOF:
			return nil, &Error{Kind: KindEnded, BMC: name, Msg: fmt.Sprintf("the BMC closed the session during step %d of profile %s", i+1, p.Name), Err: fmt.Errorf("last output %s", excerpt(window))}
		default:
			return nil, &Error{Kind: KindLost, BMC: name, Msg: fmt.Sprintf("the connection broke during step %d of profile %s", i+1, p.Name), Err: err}
		}
	}
	return window, nil
}

var errStepAborted = errors.New("bmcssh: step aborted")

// excerpt quotes the end of output for a log (at most 64 bytes).
func excerpt(b []byte) string {
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	return fmt.Sprintf("%q", b)
}
