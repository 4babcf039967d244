package sshd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/service"
	"golang.org/x/term"
)

const prompt = "bmcgate> "

// shell runs the interactive prompt on a client terminal.
func (s *Server) shell(se *session) int {
	rw := struct {
		io.Reader
		io.Writer
	}{ctxReader{se.ctx, se.input()}, se.ch}
	t := term.NewTerminal(rw, prompt)
	se.mu.Lock()
	w := se.win
	se.mu.Unlock()
	if w.cols > 0 && w.rows > 0 {
		_ = t.SetSize(w.cols, w.rows)
	}
	go func() {
		for {
			select {
			case <-se.ctx.Done():
				return
			case w := <-se.winch:
				_ = t.SetSize(w.cols, w.rows)
			}
		}
	}()
	fmt.Fprintf(t, "bmcgate: signed in as %s. Type \"help\" for commands, \"exit\" to leave.\n", clean(se.caller.Name()))
	last := exitOK
	for {
		line, err := t.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return last
			}
			return last
		}
		line = strings.TrimSpace(line)
		switch line {
		case "":
			continue
		case "exit", "quit", "logout":
			return last
		}
		// term.Terminal turns "\n" into "\r\n" on Write.
		last = s.execLine(se.env(t, t), line)
		if se.ctx.Err() != nil || s.endIfRevoked(se) {
			return last
		}
	}
}

// lineShell serves a session without a terminal: commands are read one
// per line from stdin (for scripts: ssh gw < commands.txt).
func (s *Server) lineShell(se *session) int {
	sc := bufio.NewScanner(ctxReader{se.ctx, se.input()})
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	last := exitOK
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "exit" || line == "quit" {
			break
		}
		if code := s.execLine(se.env(se.stdout(), se.stderr()), line); code != exitOK {
			last = code
		}
		if se.ctx.Err() != nil || s.endIfRevoked(se) {
			break
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(se.stderr(), "bmcgate: %v\n", err)
		return exitUsage
	}
	return last
}

// endIfRevoked ends the session when the current config revokes its
// identity, and reports whether it did. A reload re-checks consoles and
// connections separately; a console detached by it returns to the shell
// before the connection is ended, and the shell must not prompt again.
func (s *Server) endIfRevoked(se *session) bool {
	_, err := s.svc.Resolve(se.caller)
	if !errors.Is(err, service.ErrRevoked) {
		return false
	}
	se.end(service.Message(err))
	return true
}
