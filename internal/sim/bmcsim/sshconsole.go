package bmcsim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	glssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// SSHOptions configures the SSH console service of a simulated BMC. Zero
// values take the defaults.
type SSHOptions struct {
	Addr string // default "127.0.0.1:0"
	// Flavor is the command line the service presents: "openbmc" (the
	// default: the session is the host console, as on OpenBMC's port 2200),
	// "idrac" ("racadm>>", "console com2", Ctrl-\ leaves), "ilo"
	// ("</>hpiLO->", "vsp", ESC ( leaves) or "supermicro" ("->",
	// "cd /system1/sol1", "start", Enter Esc T leaves). The vendor flavors
	// are modelled on the vendors' documentation, not on their firmware.
	Flavor   string
	Username string // default "admin"
	// Password enables password logins ("password" method, or
	// keyboard-interactive with KeyboardInteractive).
	Password            string
	KeyboardInteractive bool
	// AuthorizedKeys enables public key logins with these keys.
	AuthorizedKeys []gossh.PublicKey
	// HostKey is the service's host key; default a fresh Ed25519 key.
	HostKey gossh.Signer
	// LegacyAlgorithms offers only SHA-1 key exchange and MACs, as an old
	// BMC would.
	LegacyAlgorithms bool
	// Garbage makes the command line stream noise and never show a prompt.
	Garbage bool
}

// sshFlavor is a vendor's console command line.
type sshFlavor struct {
	prompt  string // "" : the session is the console
	cd      string // a command that must come before attach ("" none)
	attach  string // the command that attaches the console
	banner  string // printed when the console attaches
	busy    string // printed when another session holds the console
	unknown string // printed for any other command
	detach  string // leaves the console
}

var sshFlavors = map[string]sshFlavor{
	"openbmc": {},
	"idrac": {prompt: "racadm>> ", attach: "console com2",
		banner:  "Connected to serial device 2. To end type: ^\\\r\n",
		busy:    "ERROR: the serial console is in use by another session.\r\n",
		unknown: "ERROR: Invalid subcommand specified.\r\n", detach: "\x1c"},
	"ilo": {prompt: "</>hpiLO-> ", attach: "vsp",
		banner:  "Virtual Serial Port Active: COM2\r\n\r\nStarting virtual serial port.\r\nPress 'ESC (' to return to the CLI Session.\r\n",
		busy:    "Virtual Serial Port is currently in use by another session.\r\n",
		unknown: "status=2\r\nstatus_tag=COMMAND PROCESSING FAILED\r\nerror_tag=COMMAND NOT RECOGNIZED\r\n", detach: "\x1b("},
	"supermicro": {prompt: "-> ", cd: "cd /system1/sol1", attach: "start",
		banner:  "[Press <Enter>, <Esc>, and then <T> to terminate session]\r\n",
		busy:    "COMMAND PROCESSING FAILED: SOL session already in use\r\n",
		unknown: "COMMAND PROCESSING FAILED\r\n", detach: "\r\x1bT"},
}

// SSHConsole is the SSH console service of a simulated BMC: an SSH server
// on loopback (gliderlabs/ssh) whose sessions reach the same fake host
// serial console as the BMC's SOL side, so what is typed through SSH is
// echoed on SOL and the other way round.
type SSHConsole struct {
	b       *BMC
	o       SSHOptions
	fl      sshFlavor
	srv     *glssh.Server
	ln      net.Listener
	hostKey gossh.PublicKey
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	wg      sync.WaitGroup // session handlers

	mu        sync.Mutex
	closed    bool
	conns     map[net.Conn]struct{}
	busy      bool
	stall     chan struct{} // non-nil while keep-alives go unanswered; closed to release
	end       chan struct{} // closed by EndConsoles
	logins    int
	failures  int
	attached  int // sessions in console mode now
	detaches  int
	changed   chan struct{} // closed when a counter above changes
	closeOnce sync.Once
}

// StartSSH starts the BMC's SSH console service; Close (or the BMC's ctx
// ending) stops it.
func (b *BMC) StartSSH(ctx context.Context, o SSHOptions) (*SSHConsole, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Flavor == "" {
		o.Flavor = "openbmc"
	}
	if o.Username == "" {
		o.Username = "admin"
	}
	fl, ok := sshFlavors[o.Flavor]
	if !ok {
		return nil, fmt.Errorf("bmcsim %s: unknown SSH flavor %q", b.name, o.Flavor)
	}
	if o.Password == "" && len(o.AuthorizedKeys) == 0 {
		return nil, fmt.Errorf("bmcsim %s: the SSH service needs a password or authorized keys", b.name)
	}
	if o.HostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("bmcsim %s: host key: %w", b.name, err)
		}
		if o.HostKey, err = gossh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("bmcsim %s: host key: %w", b.name, err)
		}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: listen %s: %w", b.name, o.Addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &SSHConsole{b: b, o: o, fl: fl, ln: ln, hostKey: o.HostKey.PublicKey(), ctx: sctx, cancel: cancel,
		done: make(chan struct{}), conns: map[net.Conn]struct{}{}, end: make(chan struct{}), changed: make(chan struct{})}
	s.srv = &glssh.Server{
		Handler: s.handle,
		// The shell's reply can reach the client before the handler runs:
		// an EndConsoles from then on must end this session's console (the
		// openbmc flavor's session is the console), so its end signal is
		// taken before the reply.
		SessionRequestCallback: func(sess glssh.Session, _ string) bool {
			sess.Context().SetValue(endKey{}, s.endChan())
			return true
		},
		HostSigners: []glssh.Signer{o.HostKey},
		Version:     "bmcsim",
		ConnCallback: func(_ glssh.Context, c net.Conn) net.Conn {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.closed {
				return nil
			}
			s.conns[c] = struct{}{}
			return &trackedConn{Conn: c, s: s}
		},
		ServerConfigCallback: func(glssh.Context) *gossh.ServerConfig {
			if o.LegacyAlgorithms {
				return &gossh.ServerConfig{Config: gossh.Config{
					KeyExchanges: []string{gossh.InsecureKeyExchangeDH14SHA1},
					MACs:         []string{gossh.HMACSHA1},
					Ciphers:      []string{gossh.CipherAES128CTR},
				}}
			}
			return &gossh.ServerConfig{Config: modernServerAlgorithms()}
		},
		RequestHandlers: map[string]glssh.RequestHandler{
			"keepalive@openssh.com": func(ctx glssh.Context, _ *glssh.Server, _ *gossh.Request) (bool, []byte) {
				s.mu.Lock()
				st := s.stall
				s.mu.Unlock()
				if st != nil {
					select {
					case <-st:
					case <-ctx.Done():
					}
				}
				return false, nil
			},
		},
	}
	if o.Password != "" && !o.KeyboardInteractive {
		s.srv.PasswordHandler = func(_ glssh.Context, pass string) bool {
			return s.login(pass == o.Password)
		}
	}
	if o.Password != "" && o.KeyboardInteractive {
		s.srv.KeyboardInteractiveHandler = func(_ glssh.Context, ch gossh.KeyboardInteractiveChallenge) bool {
			answers, err := ch("", "", []string{"Password: "}, []bool{false})
			return s.login(err == nil && len(answers) == 1 && answers[0] == o.Password)
		}
	}
	if len(o.AuthorizedKeys) > 0 {
		s.srv.PublicKeyHandler = func(_ glssh.Context, k glssh.PublicKey) bool {
			for _, ak := range o.AuthorizedKeys {
				if glssh.KeysEqual(k, ak) {
					return true
				}
			}
			return false
		}
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// modernServerAlgorithms are x/crypto's supported algorithms without the
// SHA-1 MAC it still lists (its key exchanges and ciphers there have no
// SHA-1, CBC or RC4).
func modernServerAlgorithms() gossh.Config {
	a := gossh.SupportedAlgorithms()
	macs := make([]string, 0, len(a.MACs))
	for _, m := range a.MACs {
		if !strings.Contains(m, "sha1") {
			macs = append(macs, m)
		}
	}
	return gossh.Config{KeyExchanges: a.KeyExchanges, Ciphers: a.Ciphers, MACs: macs}
}

// trackedConn lets DropConnections cut a connection.
type trackedConn struct {
	net.Conn
	s *SSHConsole
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c.Conn)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

func (s *SSHConsole) login(ok bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.logins++
	} else {
		s.failures++
	}
	s.signalLocked()
	return ok
}

func (s *SSHConsole) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed returns a channel closed when logins, attachments or detaches
// next change.
func (s *SSHConsole) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Addr returns the host:port the service listens on.
func (s *SSHConsole) Addr() string { return s.ln.Addr().String() }

// HostKey returns the service's public host key.
func (s *SSHConsole) HostKey() gossh.PublicKey { return s.hostKey }

// Logins returns the successful and failed password logins.
func (s *SSHConsole) Logins() (ok, failed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.failures
}

// Attached returns how many sessions are attached to the console now.
func (s *SSHConsole) Attached() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attached
}

// Detaches returns how many times a session left the console with the
// flavor's detach sequence.
func (s *SSHConsole) Detaches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detaches
}

// SetBusy makes the attach command answer that another session holds the
// console (no effect on the openbmc flavor).
func (s *SSHConsole) SetBusy(busy bool) {
	s.mu.Lock()
	s.busy = busy
	s.mu.Unlock()
}

// Stall leaves keep-alive requests unanswered until Stall(false).
func (s *SSHConsole) Stall(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.stall == nil:
		s.stall = make(chan struct{})
	case !on && s.stall != nil:
		close(s.stall)
		s.stall = nil
	}
}

// EndConsoles ends every attached console on the BMC's side: a vendor
// flavor's sessions go back to its command line, an openbmc session ends.
func (s *SSHConsole) EndConsoles() {
	s.mu.Lock()
	close(s.end)
	s.end = make(chan struct{})
	s.mu.Unlock()
}

// DropConnections cuts every connection without an SSH goodbye, as a
// network failure or a BMC reset would.
func (s *SSHConsole) DropConnections() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Close stops the service, cuts its connections and waits for its
// sessions to end.
func (s *SSHConsole) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.stall != nil {
			close(s.stall)
			s.stall = nil
		}
		s.mu.Unlock()
		s.cancel()
		err = s.srv.Close()
		// The server closes only listeners its Serve has registered: a
		// Close right after the start (a test that skips) can come first
		// and leave Serve in Accept. Closing the listener ends it either way.
		_ = s.ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
		<-s.done
		s.wg.Wait()
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// endKey is the session context's key of the end signal taken before the
// shell's reply.
type endKey struct{}

// endChan is the signal the next EndConsoles closes.
func (s *SSHConsole) endChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// sshSession is one session of the service.
type sshSession struct {
	s      *SSHConsole
	sess   glssh.Session
	ctx    context.Context
	in     <-chan []byte // input chunks; closed at the end of input
	breaks chan bool
}

// handle serves one session: the flavor's command line, or the console
// itself for openbmc.
func (s *SSHConsole) handle(sess glssh.Session) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	stop := context.AfterFunc(sess.Context(), cancel)
	defer stop()
	// Buffered, and filled without looking at ctx while there is room:
	// what the client sent just before closing the session (a detach
	// sequence) reaches the console loop, which drains it at the end.
	in := make(chan []byte, 16)
	var rwg sync.WaitGroup
	defer rwg.Wait()
	defer func() { _ = sess.Exit(0) }() // ends the reader below
	rwg.Go(func() {
		defer close(in)
		buf := make([]byte, 4096)
		for {
			n, err := sess.Read(buf)
			if n > 0 {
				p := append([]byte(nil), buf[:n]...)
				select {
				case in <- p:
				default:
					select {
					case in <- p:
					case <-ctx.Done():
						return
					}
				}
			}
			if err != nil {
				return
			}
		}
	})
	ss := &sshSession{s: s, sess: sess, ctx: ctx, in: in, breaks: make(chan bool, 4)}
	sess.Break(ss.breaks)
	switch {
	case s.o.Garbage:
		ss.garbage()
	case s.fl.prompt == "":
		end, _ := sess.Context().Value(endKey{}).(<-chan struct{})
		if end == nil {
			end = s.endChan()
		}
		ss.console(end)
	default:
		ss.commandLine()
	}
}

// garbage streams noise until the client goes away.
func (ss *sshSession) garbage() {
	noise := bytes.Repeat([]byte("#%&*+=~ noise without a prompt "), 32)
	for ss.ctx.Err() == nil {
		if _, err := ss.sess.Write(noise); err != nil {
			return
		}
	}
}

// commandLine runs the flavor's command line until exit or the end of
// input.
func (ss *sshSession) commandLine() {
	fl := ss.s.fl
	write := func(s string) bool {
		_, err := ss.sess.Write([]byte(s))
		return err == nil
	}
	if !write("\r\n" + fl.prompt) {
		return
	}
	var line []byte
	inSOL := false // supermicro: after "cd /system1/sol1"
	for {
		var p []byte
		select {
		case <-ss.ctx.Done():
			return
		case <-ss.breaks: // a break at the command line does nothing
			continue
		case chunk, ok := <-ss.in:
			if !ok {
				return
			}
			p = chunk
		}
		for _, c := range p {
			switch {
			case c == '\r':
				// A client may count the console as attached as soon as
				// it reads the attach command's echo: an EndConsoles from
				// then on must end it, so the end signal is taken before
				// anything is echoed.
				end := ss.s.endChan()
				cmd := strings.Join(strings.Fields(string(line)), " ")
				line = line[:0]
				if !write("\r\n") {
					return
				}
				switch {
				case cmd == "":
				case cmd == "exit" || cmd == "quit":
					return
				case fl.cd != "" && cmd == fl.cd:
					inSOL = true
				case cmd == fl.attach && (fl.cd == "" || inSOL):
					ss.s.mu.Lock()
					busy := ss.s.busy
					ss.s.mu.Unlock()
					if busy {
						if !write(fl.busy) {
							return
						}
						break
					}
					if !write(fl.banner) {
						return
					}
					if !ss.console(end) {
						return
					}
					if !write("\r\n") {
						return
					}
				default:
					if !write(fl.unknown) {
						return
					}
				}
				if !write(fl.prompt) {
					return
				}
			case c == '\n':
			case c == 0x7f || c == 0x08:
				if len(line) > 0 {
					line = line[:len(line)-1]
					if !write("\b \b") {
						return
					}
				}
			case c >= 0x20 && c < 0x7f && len(line) < 256:
				line = append(line, c)
				if !write(string(c)) {
					return
				}
			}
		}
	}
}

// console attaches the session to the host console until the flavor's
// detach sequence, end closing (EndConsoles) or the end of the session. It
// reports whether the session goes on (back to the command line).
func (ss *sshSession) console(end <-chan struct{}) bool {
	s := ss.s
	host := s.b.console
	tap := host.attach()
	defer host.detachTap(tap)
	s.mu.Lock()
	s.attached++
	s.signalLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.attached--
		s.signalLocked()
		s.mu.Unlock()
	}()
	seq := []byte(s.fl.detach)
	var tail []byte
	// input passes p to the host up to the detach sequence, and reports
	// whether p completed it.
	input := func(p []byte) bool {
		if len(seq) > 0 {
			buf := append(tail, p...)
			if i := bytes.Index(buf, seq); i >= 0 {
				if k := i - len(tail); k > 0 {
					host.receive(p[:k]) // what came before the sequence
				}
				s.mu.Lock()
				s.detaches++
				s.signalLocked()
				s.mu.Unlock()
				return true
			}
			tail = append([]byte(nil), buf[max(0, len(buf)-len(seq)+1):]...)
		}
		host.receive(p)
		return false
	}
	for {
		select {
		case <-ss.ctx.Done():
			// The session ended: input read before its end still counts
			// (a client detaches, then closes at once).
			for p := range ss.in {
				if input(p) {
					return false
				}
			}
			return false
		case <-end:
			return s.fl.prompt != ""
		case <-ss.breaks:
			host.gotBreak()
		case <-tap.notify:
			if _, err := ss.sess.Write(tap.take()); err != nil {
				return false
			}
		case p, ok := <-ss.in:
			if !ok {
				return false
			}
			if input(p) {
				return true
			}
		}
	}
}

// consoleTap is an SSH session's attachment to the host console: output
// waiting to be written, bounded.
type consoleTap struct {
	mu     sync.Mutex
	buf    []byte
	notify chan struct{}
}

func (t *consoleTap) push(p []byte) {
	t.mu.Lock()
	if len(t.buf)+len(p) <= maxPending {
		t.buf = append(t.buf, p...)
	}
	t.mu.Unlock()
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

func (t *consoleTap) take() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.buf
	t.buf = nil
	return p
}

// attach adds an SSH attachment, greeted like a fresh line on the host.
func (c *echoConsole) attach() *consoleTap {
	t := &consoleTap{notify: make(chan struct{}, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.taps == nil {
		c.taps = map[*consoleTap]struct{}{}
	}
	c.taps[t] = struct{}{}
	t.push([]byte("\r\n" + c.name + " login: "))
	return t
}

func (c *echoConsole) detachTap(t *consoleTap) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.taps, t)
}
