package bmcssh

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Buffer sizes of an attached line.
const (
	readBuffer  = 8 << 10 // console output read at once
	writeBuffer = 4 << 10 // input written at once
)

// conn is one SSH connection of a line.
type conn struct {
	raw    net.Conn
	client *ssh.Client
	stop   func() bool // unhooks the close-on-cancel

	mu    sync.Mutex
	cause error // why the connection was cut (first reason wins)
}

// fail records why the connection is cut and cuts it.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = err
	}
	c.mu.Unlock()
	_ = c.raw.Close()
}

// why prefers the recorded cause over err (a read that failed because the
// connection was cut).
func (c *conn) why(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return c.cause
	}
	return err
}

func (c *conn) close() {
	c.stop()
	if c.client != nil {
		_ = c.client.Close()
		_ = c.client.Wait()
	}
	_ = c.raw.Close()
}

// connect dials the BMC, checks its host key and logs in, all within
// ConnectTimeout. The connection keeps that deadline; the caller clears it.
func (l *Line) connect(ctx context.Context) (*conn, error) {
	addr := l.t.address()
	dctx, cancel := context.WithTimeout(ctx, l.opts.ConnectTimeout)
	defer cancel()
	raw, err := l.opts.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Kind: KindConnect, BMC: l.t.Name, Msg: "cannot reach the BMC's SSH service", Err: err}
	}
	_ = raw.SetDeadline(time.Now().Add(l.opts.ConnectTimeout))
	c := &conn{raw: raw}
	c.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })
	keyOK := false
	cfg, err := l.clientConfig(&keyOK)
	if err != nil {
		c.close()
		return nil, err
	}
	sc, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if err != nil {
		c.close()
		return nil, l.handshakeError(dctx, err, keyOK)
	}
	c.client = ssh.NewClient(sc, chans, reqs)
	return c, nil
}

// handshakeError classifies a failed handshake; a pinned key type the BMC
// does not have is a host key refusal, not an algorithm one.
func (l *Line) handshakeError(ctx context.Context, err error, keyOK bool) error {
	var neg *ssh.AlgorithmNegotiationError
	if errors.As(err, &neg) && neg.What == "host key" && !l.t.HostKey.IsZero() {
		return &Error{Kind: KindHostKey, BMC: l.t.Name, Msg: "the BMC has no " + l.t.HostKey.Type() + " host key (the type of the pinned key); refused", Err: err}
	}
	e := classifyHandshake(ctx, l.t.Name, err, keyOK)
	if ee, ok := e.(*Error); ok && ee.BMC == "" {
		ee.BMC = l.t.Name
	}
	return e
}

var errAuthRetry = errors.New("the password was already refused once on this connection")

// clientConfig is the x/crypto client configuration for the target. keyOK
// is set once the host key matched the pin.
func (l *Line) clientConfig(keyOK *bool) (*ssh.ClientConfig, error) {
	t := l.t
	var methods []ssh.AuthMethod
	if t.Key != nil {
		s, err := clientSigner(t.Key)
		if err != nil {
			return nil, &Error{Kind: KindTarget, BMC: t.Name, Msg: "the gateway's SSH key for this BMC is not usable", Err: err}
		}
		methods = append(methods, ssh.PublicKeys(s))
	}
	if t.Password != "" {
		// One try of the password per connection, by either method: a BMC
		// counts failures towards locking the account.
		tried := false
		methods = append(methods,
			ssh.PasswordCallback(func() (string, error) {
				if tried {
					return "", &Error{Kind: KindAuth, BMC: t.Name, Msg: "the BMC refused the gateway's SSH credentials", Err: errAuthRetry}
				}
				tried = true
				return string(t.Password), nil
			}),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				switch {
				case len(questions) == 0:
					return nil, nil
				case tried:
					return nil, &Error{Kind: KindAuth, BMC: t.Name, Msg: "the BMC refused the gateway's SSH credentials", Err: errAuthRetry}
				case len(questions) != 1 || echos[0]:
					return nil, &Error{Kind: KindAuth, BMC: t.Name, Msg: "the BMC asks more than a password (keyboard-interactive)", Err: errors.New("unexpected keyboard-interactive questions")}
				}
				tried = true
				return []string{string(t.Password)}, nil
			}))
	}
	pin := t.HostKey
	return &ssh.ClientConfig{
		Config:            algorithmConfig(),
		User:              t.User,
		Auth:              methods,
		HostKeyAlgorithms: pin.algorithms(),
		ClientVersion:     clientVersion,
		BannerCallback:    func(string) error { return nil },
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			fp := ssh.FingerprintSHA256(key)
			switch {
			case pin.IsZero():
				return &Error{Kind: KindHostKey, BMC: t.Name, Fingerprint: fp,
					Msg: "no SSH host key is pinned for this BMC, and bmcgate never trusts one on first use (it presented " + fp + ")"}
			case !pin.Equal(key):
				return &Error{Kind: KindHostKey, BMC: t.Name, Fingerprint: fp,
					Msg: "the BMC presented SSH host key " + fp + ", not the pinned " + pin.Fingerprint()}
			}
			*keyOK = true
			return nil
		},
	}, nil
}

// breakRequest is the payload of an RFC 4335 "break" request.
type breakRequest struct {
	Length uint32 // milliseconds
}

// session runs one connection: connect, start the console, stream until it
// drops. It reports whether the console was attached at some point.
func (l *Line) session(ctx context.Context) (bool, error) {
	c, err := l.connect(ctx)
	if err != nil {
		return false, err
	}
	defer c.close()
	sess, stdin, stdout, err := l.start(c)
	if err != nil {
		return false, c.why(err)
	}
	_ = c.raw.SetDeadline(time.Time{})
	rest, err := runSteps(ctx, l.t.Name, l.prof, stdout, stdin, l.opts, c.fail)
	if err != nil {
		return false, c.why(err)
	}
	l.setStatus(Status{State: StateActive, Msg: "console connected"})
	err = l.stream(ctx, c, sess, stdin, stdout, rest)
	l.loseInput(lostReason(ctx, err))
	return true, err
}

// start opens the session: PTY, then the shell or the profile's command.
func (l *Line) start(c *conn) (*ssh.Session, io.WriteCloser, io.Reader, error) {
	fail := func(msg string, err error) (*ssh.Session, io.WriteCloser, io.Reader, error) {
		return nil, nil, nil, &Error{Kind: KindSession, BMC: l.t.Name, Msg: msg, Err: err}
	}
	sess, err := c.client.NewSession()
	if err != nil {
		return fail("the BMC refused an SSH session", err)
	}
	modes := ssh.TerminalModes{ssh.TTY_OP_ISPEED: 115200, ssh.TTY_OP_OSPEED: 115200}
	if err := sess.RequestPty(l.opts.Term, l.opts.Rows, l.opts.Cols, modes); err != nil {
		return fail("the BMC refused a terminal (PTY)", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fail("session input", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fail("session output", err)
	}
	if l.prof.Command != "" {
		err = sess.Start(l.prof.Command)
	} else {
		err = sess.Shell()
	}
	if err != nil {
		return fail("the BMC refused to start the console service's shell or command", err)
	}
	return sess, stdin, stdout, nil
}

// stream moves output and input until the connection drops or ctx ends
// (then it leaves the console cleanly).
func (l *Line) stream(ctx context.Context, c *conn, sess *ssh.Session, stdin io.WriteCloser, stdout io.Reader, rest []byte) error {
	// From here ctx ending detaches cleanly instead of cutting the
	// connection.
	c.stop()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 3)
	writerDone, readerDone := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(readerDone)
		errc <- l.readLoop(c, stdout, rest)
	})
	wg.Go(func() {
		defer close(writerDone)
		errc <- l.writeLoop(sctx, stdin)
	})
	wg.Go(func() { errc <- l.keepAlive(sctx, c) })
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			break loop
		case <-l.brkWake:
			l.sendBreak(sess, c)
		}
	}
	stop()
	if ctx.Err() != nil {
		l.detach(c, sess, stdin, writerDone, readerDone)
	}
	err = c.why(err)
	c.fail(errLineClosed)
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

var errLineClosed = errors.New("bmcssh: line closed")

// detach leaves the console cleanly: the profile's detach sequence, the
// end of input, the session's close, and the BMC's answering close.
// Bounded: a BMC that does not take it is cut off.
func (l *Line) detach(c *conn, sess *ssh.Session, stdin io.WriteCloser, writerDone, readerDone <-chan struct{}) {
	t := time.AfterFunc(2*time.Second, func() { c.fail(errLineClosed) })
	defer t.Stop()
	<-writerDone
	if l.prof.Detach != "" {
		_, _ = stdin.Write([]byte(l.prof.Detach))
	}
	_ = stdin.Close()
	_ = sess.Close()
	<-readerDone
}

// readLoop hands console output to OnOutput, watching for the profile's
// Ended text (and, in the first output, for its Busy text: a BMC may
// answer the attach command and only then say the console is taken).
func (l *Line) readLoop(c *conn, stdout io.Reader, rest []byte) error {
	ended, busy := l.prof.ended, l.prof.busy
	var tail []byte
	seen := 0
	check := func(p []byte) error {
		if ended == nil && busy == nil {
			return nil
		}
		seen += len(p)
		tail = append(tail, p...)
		if len(tail) > expectWindow {
			tail = append(tail[:0], tail[len(tail)-expectWindow:]...)
		}
		if busy != nil && seen-len(p) < expectWindow && busy.Match(tail) {
			return &Error{Kind: KindBusy, BMC: l.t.Name, Msg: "the BMC says another client holds its console", Err: errors.New("output " + excerpt(tail))}
		}
		if ended != nil && ended.Match(tail[max(0, len(tail)-endedWindow):]) {
			return &Error{Kind: KindEnded, BMC: l.t.Name, Msg: "the BMC ended the console (its command line came back)", Err: errors.New("output " + excerpt(tail))}
		}
		return nil
	}
	if len(rest) > 0 {
		l.opts.OnOutput(rest)
		if err := check(rest); err != nil {
			return err
		}
	}
	buf := make([]byte, readBuffer)
	for {
		n, err := stdout.Read(buf)
		if n > 0 {
			l.opts.OnOutput(buf[:n])
			if err := check(buf[:n]); err != nil {
				return err
			}
		}
		switch {
		case err == io.EOF && l.alive(c):
			return &Error{Kind: KindEnded, BMC: l.t.Name, Msg: "the BMC closed the console session"}
		case err != nil:
			return &Error{Kind: KindLost, BMC: l.t.Name, Msg: "the SSH connection was lost", Err: err}
		}
	}
}

// alive tells a session the BMC closed from a connection that broke (both
// end the session's output): the connection still answers a request.
func (l *Line) alive(c *conn) bool {
	w := time.AfterFunc(2*time.Second, func() { _ = c.raw.Close() })
	defer w.Stop()
	_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
	return err == nil
}

// writeLoop writes queued input to the BMC.
func (l *Line) writeLoop(ctx context.Context, stdin io.Writer) error {
	buf := make([]byte, writeBuffer)
	for {
		n := l.peekInput(buf)
		if n == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-l.wake:
				continue
			}
		}
		w, err := stdin.Write(buf[:n])
		l.commitInput(w)
		if err != nil {
			return &Error{Kind: KindLost, BMC: l.t.Name, Msg: "the SSH connection was lost", Err: err}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// keepAlive asks the BMC for a reply every KeepAlive; no reply within
// KeepAliveTimeout cuts the connection.
func (l *Line) keepAlive(ctx context.Context, c *conn) error {
	t := time.NewTicker(l.opts.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		lost := &Error{Kind: KindLost, BMC: l.t.Name, Msg: "the BMC stopped answering SSH keep-alives"}
		w := time.AfterFunc(l.opts.KeepAliveTimeout, func() { c.fail(lost) })
		_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
		if !w.Stop() {
			return lost
		}
		if err != nil {
			return &Error{Kind: KindLost, BMC: l.t.Name, Msg: "the SSH connection was lost", Err: err}
		}
	}
}

// sendBreak sends a waiting break request, bounded like a keep-alive.
func (l *Line) sendBreak(sess *ssh.Session, c *conn) {
	if !l.takeBreak() {
		return
	}
	lost := &Error{Kind: KindLost, BMC: l.t.Name, Msg: "the BMC did not answer a break request"}
	w := time.AfterFunc(l.opts.KeepAliveTimeout, func() { c.fail(lost) })
	ok, err := sess.SendRequest("break", true, ssh.Marshal(breakRequest{Length: uint32(l.opts.BreakLength / time.Millisecond)}))
	w.Stop()
	switch {
	case err != nil:
		l.opts.Logger.Info("bmcssh: break not sent", "bmc", l.t.Name, "err", err)
	case !ok:
		l.opts.Logger.Warn("bmcssh: the BMC refused the serial break request", "bmc", l.t.Name)
	}
}

// lostReason says why queued input was not delivered.
func lostReason(ctx context.Context, err error) string {
	if err == nil || ctx.Err() != nil {
		return "the console was closed before it was sent"
	}
	return "the console was lost before it was sent (" + safeMsg(err) + ")"
}
