package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// maxChannelsPerConn bounds concurrent session channels on one connection
// (OpenSSH connection multiplexing opens several).
const maxChannelsPerConn = 8

// maxEnvNames bounds how many refused env names one session records; the
// record counts the rest.
const maxEnvNames = 16

// window is a terminal size.
type window struct{ cols, rows int }

// session is one SSH session channel. bmcgate handles the channel's
// requests itself so that each one is either served or refused and audited:
// there is no agent forwarding, X11, env or subsystem support.
type session struct {
	srv    *Server
	ch     gossh.Channel
	ctx    context.Context
	cancel context.CancelCauseFunc
	caller service.Caller
	force  string
	noPTY  bool // the certificate lacks permit-pty
	conn   *connState

	finishOnce sync.Once
	finished   chan struct{} // closed when the channel has been ended
	closed     chan struct{} // closed when the client has closed the channel too

	mu       sync.Mutex
	endWhy   string // set when the session is ended from outside (live.go)
	started  bool
	pty      bool
	termName string
	win      window
	winch    chan window
	envNames []string
	envCount int // env requests, all of them
	breaks   chan struct{}
	in       *sessionInput // shared reader of the channel (console_input.go)
}

// sessionChannel accepts a session channel from an authenticated connection.
func (s *Server) sessionChannel(_ *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	st, _ := ctx.Value(ctxKeyConn).(*connState)
	user, auth, force, ok := identity(conn)
	if st == nil || !ok {
		_ = nc.Reject(gossh.Prohibited, "no verified identity")
		return
	}
	caller := service.Caller{
		Identity: callerIdentity(conn, user),
		Door:     "ssh", Source: st.remote, Session: st.id, Auth: auth,
	}
	if _, err := s.svc.Resolve(caller); err != nil {
		s.refuse(st, user, "session channel", service.Message(err), "")
		_ = nc.Reject(gossh.Prohibited, service.Message(err))
		return
	}
	if st.channels.Add(1) > maxChannelsPerConn {
		st.channels.Add(-1)
		_ = nc.Reject(gossh.ResourceShortage, "too many sessions on this connection")
		return
	}
	defer st.channels.Add(-1)
	st.opened.Store(true)
	st.idle.touch()
	raw, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	ch := activeChannel{Channel: raw, idle: st.idle}
	sctx, cancel := context.WithCancelCause(ctx)
	sess := &session{srv: s, ch: ch, ctx: sctx, cancel: cancel, caller: caller, force: force, conn: st,
		noPTY: !ptyAllowed(conn), finished: make(chan struct{}), closed: make(chan struct{}), winch: make(chan window, 1), breaks: make(chan struct{}, 1)}
	if err := s.login(ctx, st, caller); err != nil {
		fmt.Fprintf(ch.Stderr(), "bmcgate: %s\r\n", service.Message(err))
		sess.exit(exitRefused)
		cancel(err)
		return
	}
	s.live.add(ctx, st, conn, sess)
	defer s.live.remove(st, sess)
	sess.serveRequests(reqs)
}

// serveRequests handles the channel's requests until the client closes it
// (or the connection ends).
func (se *session) serveRequests(reqs <-chan *gossh.Request) {
	defer close(se.closed)
	defer se.cancel(nil)
	for req := range reqs {
		ok := false
		if !quietRequests[req.Type] {
			se.conn.idle.touch()
		}
		switch req.Type {
		case "pty-req":
			ok = se.ptyReq(req.Payload)
		case "window-change":
			ok = se.windowChange(req.Payload)
		case "env":
			se.envReq(req.Payload)
		case "shell", "exec":
			ok = se.start(req.Type, req.Payload)
		case "break":
			select {
			case se.breaks <- struct{}{}:
			default:
			}
			ok = true
		case "signal":
			// Signals have no meaning for gateway commands.
		default:
			// subsystem (sftp), x11-req, auth-agent-req@openssh.com and
			// anything unknown are refused and audited.
			// Keep-alives are declined quietly.
			if !quietRequests[req.Type] {
				se.refuse("session request", requestName(req))
			}
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
	}
}

func requestName(req *gossh.Request) string {
	if req.Type == "subsystem" {
		var p struct{ Name string }
		if gossh.Unmarshal(req.Payload, &p) == nil {
			return "subsystem " + p.Name
		}
	}
	return req.Type
}

func (se *session) ptyReq(payload []byte) bool {
	var p struct {
		Term          string
		Cols, Rows    uint32
		Width, Height uint32
		Modes         string
	}
	if se.noPTY {
		se.refuse("session request", "pty-req (the certificate does not permit a terminal)")
		return false
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.started || se.pty || gossh.Unmarshal(payload, &p) != nil {
		return false
	}
	se.pty, se.termName = true, p.Term
	se.win = window{cols: int(p.Cols), rows: int(p.Rows)}
	return true
}

func (se *session) windowChange(payload []byte) bool {
	var p struct{ Cols, Rows, Width, Height uint32 }
	if gossh.Unmarshal(payload, &p) != nil {
		return false
	}
	w := window{cols: int(p.Cols), rows: int(p.Rows)}
	se.mu.Lock()
	se.win = w
	se.mu.Unlock()
	select { // keep only the latest size
	case <-se.winch:
	default:
	}
	se.winch <- w
	return true
}

// envReq refuses an environment variable; the names are audited together
// when the session starts (OpenSSH sends LANG and LC_* by default).
func (se *session) envReq(payload []byte) {
	var p struct{ Name, Value string }
	if gossh.Unmarshal(payload, &p) != nil {
		return
	}
	se.mu.Lock()
	se.envCount++
	if len(se.envNames) < maxEnvNames {
		se.envNames = append(se.envNames, p.Name)
	}
	n := se.envCount
	se.mu.Unlock()
	if n > maxEnvRequests {
		// Far more than any client sends: each one beyond counts as a
		// refused request.
		se.refuse("session request", "env (too many)")
	}
}

// maxEnvRequests is how many env requests a session may make before each
// further one counts against the connection's refused-request allowance.
const maxEnvRequests = 256

// refuse records a refused request of this session (refuse.go).
func (se *session) refuse(kind, what string) {
	se.srv.refuse(se.conn, se.caller.Name(), kind, what, "")
}

// start begins the shell or the command.
func (se *session) start(kind string, payload []byte) bool {
	var line string
	if kind == "exec" {
		var p struct{ Command string }
		if gossh.Unmarshal(payload, &p) != nil {
			return false
		}
		line = p.Command
	}
	se.mu.Lock()
	if se.started || se.endWhy != "" {
		se.mu.Unlock()
		return false
	}
	se.started = true
	env, envCount := se.envNames, se.envCount
	se.mu.Unlock()
	if len(env) > 0 {
		r := callerRecord(se.caller, audit.CodeSSHRefused)
		r.Outcome = audit.OutcomeDeny
		r.Reason = fmt.Sprintf("env %q refused (%d variables)", strings.Join(env, ","), envCount)
		r.Fields = map[string]string{"kind": "env", "type": strings.Join(env, ","), "count": strconv.Itoa(envCount)}
		if envCount > len(env) {
			r.Fields["not_listed"] = strconv.Itoa(envCount - len(env))
		}
		se.srv.note("env", r)
	}
	se.srv.work.Add(1) // Shutdown waits for the command and its last records (a console's detach)
	go func() {
		defer se.srv.work.Done()
		se.run(kind, line)
	}()
	return true
}

// run executes the session's work and ends the channel with its status.
func (se *session) run(kind, line string) {
	defer se.cancel(nil)
	requested := ""
	if se.force != "" {
		// A certificate's force-command replaces whatever was asked; the
		// record keeps both.
		requested = line
		if kind == "shell" {
			requested = "(interactive shell)"
		}
		kind, line = "exec", se.force
	}
	var code int
	switch {
	case kind == "exec":
		e := se.env(se.stdout(), se.stderr())
		if se.force != "" {
			e.forced, e.requested = true, requested
		}
		code = se.srv.execLine(e, line)
	case se.pty:
		code = se.srv.shell(se)
	default:
		code = se.srv.lineShell(se)
	}
	se.finish(code)
}

// errSessionEnded is the cause of a session ended from outside.
var errSessionEnded = errors.New("session ended")

// end stops the session from outside (its identity was revoked): the
// running command's context is canceled, and the session finishes with why
// on stderr once the command has returned, or at once when none runs.
func (se *session) end(why string) {
	se.mu.Lock()
	if se.endWhy == "" {
		se.endWhy = why
	}
	started := se.started
	se.mu.Unlock()
	se.cancel(errSessionEnded)
	if !started {
		se.finish(exitRefused)
	}
}

// finish ends the channel with an exit status, once. A session ended from
// outside shows why first and exits with exitRefused.
func (se *session) finish(code int) {
	se.finishOnce.Do(func() {
		se.mu.Lock()
		why := se.endWhy
		se.mu.Unlock()
		if why != "" {
			fmt.Fprintf(se.stderr(), "\nbmcgate: session ended: %s\n", why)
			code = exitRefused
		}
		se.exit(code)
		close(se.finished)
	})
}

// stdout and stderr translate "\n" to "\r\n" when the client has a
// terminal, as a tty's output processing would.
func (se *session) stdout() io.Writer {
	if se.pty {
		return crlfWriter{se.ch}
	}
	return se.ch
}

func (se *session) stderr() io.Writer {
	if se.pty {
		return crlfWriter{se.ch.Stderr()}
	}
	return se.ch.Stderr()
}

func (se *session) env(out, errw io.Writer) *env {
	return &env{ctx: se.ctx, srv: se.srv, caller: se.caller, out: out, errw: errw, tty: se.pty, sess: se}
}

func (se *session) exit(code int) {
	_, _ = se.ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{uint32(code)}))
	_ = se.ch.Close()
}

// crlfWriter converts bare "\n" to "\r\n".
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "\n") {
		return c.w.Write(p)
	}
	out := make([]byte, 0, len(p)+8)
	for i, b := range p {
		if b == '\n' && (i == 0 || p[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b)
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
