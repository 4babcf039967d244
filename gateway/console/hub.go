package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/proxy/sol"
)

// Service is the subset of service.Service the hub uses.
type Service interface {
	State() *service.State
	Decide(ctx context.Context, c service.Caller, a authz.Action, t authz.Target) (authz.Decision, error)
	Permits(c service.Caller, a authz.Action, name string) (authz.Decision, *service.BMC)
	Audit(ctx context.Context, r audit.Record) error
}

// Config tunes the hub. Zero fields take the defaults.
type Config struct {
	EscapeChar    byte          // default '~'
	Scrollback    int           // bytes of output kept per console (0 keeps none)
	IdleTimeout   time.Duration // detach a viewer that typed nothing this long (default 30m)
	AllowTakeover bool          // console.force may evict a client outside bmcgate
	MaxViewers    int           // per console (default 16)
	Line          sol.Options   // keep-alive, backoff, polling of the default SOL lines (callbacks are set by the hub)
	// Open opens a BMC's console line; nil opens SOL lines (OpenSOL with
	// Line).
	Open   Opener
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.EscapeChar == 0 {
		c.EscapeChar = '~'
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.MaxViewers <= 0 {
		c.MaxViewers = 16
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Open == nil {
		c.Open = OpenSOL(c.Line, c.Logger)
	}
	// A BMC whose console goes through its SSH console service gets a
	// line over it; every other one the configured Opener's.
	c.Open = withSSH(c.Open, c.Line, c.Logger)
	return c
}

// Reasons a viewer's session ends, as the user sees them.
var (
	errDetached      = &service.UserError{Msg: "detached"}
	errTerminalGone  = &service.UserError{Msg: "terminal closed"}
	errIdle          = &service.UserError{Msg: "detached: idle for too long"}
	errRecording     = &service.UserError{Msg: "console recording failed, so the session was ended"}
	errHubClosed     = &service.UserError{Msg: "the gateway is shutting down"}
	errTooManyViewer = &service.UserError{Msg: "too many viewers on this console; try again later"}
)

// Terminal is a viewer's connection: the keystrokes typed, the raw screen,
// and serial-break requests (SSH "break"). The console takes keystrokes
// from In in the viewer's own goroutine.
type Terminal struct {
	In     KeySource
	Out    io.Writer
	Breaks <-chan struct{}
}

// KeySource is terminal input that hands typed bytes over as chunks on a
// channel. Keys returns the bytes an earlier reader left unread (pending,
// handed over and no longer held by the source), then the channel of later
// chunks. A chunk is consumed only when it is received, so input the
// console did not take stays for the terminal's next reader. closed is
// closed once input has ended and every chunk before the end was received.
type KeySource interface {
	Keys() (pending []byte, keys <-chan []byte, closed <-chan struct{})
}

// Hub is the console service: one console per BMC. It is safe for
// concurrent use.
type Hub struct {
	svc Service
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	consoles map[string]*console
	closing  map[string]chan struct{} // consoles still deactivating their payload
	closed   bool
	nextID   int
}

// New returns a hub.
func New(svc Service, cfg Config) *Hub {
	cfg = cfg.withDefaults()
	return &Hub{svc: svc, cfg: cfg, log: cfg.Logger, consoles: map[string]*console{}, closing: map[string]chan struct{}{}}
}

// newID returns a console session id.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "c-" + hex.EncodeToString(b[:])
}

// Attach connects a user's terminal to a BMC's console until the user
// detaches, is detached, or ctx ends. It returns nil after a detach the
// user asked for, and otherwise an error whose service.Message is for the user.
// takeover asks to evict a client outside bmcgate that holds the console
// (needs console.force and the AllowTakeover switch).
func (h *Hub) Attach(ctx context.Context, c service.Caller, name string, t Terminal, takeover bool) error {
	st := h.svc.State()
	b, ok := st.Inventory.Lookup(name)
	target := authz.Target{Name: name}
	if ok {
		target = b.Target()
	}
	d, err := h.svc.Decide(ctx, c, authz.ConsoleAttach, target)
	if err != nil {
		return err
	}
	if !ok || !d.Allowed {
		if ld, _ := h.svc.Permits(c, authz.BMCList, name); !ok || !ld.Allowed {
			return &service.UserError{Msg: fmt.Sprintf("%s: unknown BMC", audit.Sanitize(name)), Err: service.ErrUnknownBMC}
		}
		return &service.UserError{Msg: fmt.Sprintf("%s: %s", b.Name, d.Reason), Err: service.ErrDenied}
	}
	if b.NoConsole {
		return &service.UserError{Msg: fmt.Sprintf("%s: has no console through the gateway (console.via: none)", b.Name)}
	}
	wd, err := h.svc.Decide(ctx, c, authz.ConsoleWrite, target)
	if err != nil {
		return err
	}
	if takeover {
		fd, err := h.svc.Decide(ctx, c, authz.ConsoleForce, target)
		if err != nil {
			return err
		}
		if !fd.Allowed || !h.cfg.AllowTakeover {
			return &service.UserError{Msg: "takeover refused: it needs console.force and console.allow_takeover in the gateway config", Err: service.ErrDenied}
		}
	}
	con, v, err := h.join(ctx, b, c, wd.Allowed)
	if err != nil {
		return err
	}
	con.mu.Lock()
	v.checked = st // a reload since st makes the first keystroke re-check
	con.mu.Unlock()
	if takeover {
		con.takeover(v)
	}
	return con.serve(v, t)
}

// join adds a viewer to the BMC's console, creating the console (and its
// SOL line) for the first viewer.
func (h *Hub) join(ctx context.Context, b *service.BMC, c service.Caller, canWrite bool) (*console, *viewer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// A console whose last viewer just left is still releasing the BMC's
	// payload; wait for it rather than find the payload busy.
	for h.closing[b.Name] != nil && h.consoles[b.Name] == nil {
		ch := h.closing[b.Name]
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			h.mu.Lock()
			return nil, nil, ctx.Err()
		}
		h.mu.Lock()
	}
	if h.closed {
		return nil, nil, errHubClosed
	}
	con := h.consoles[b.Name]
	if con == nil {
		con = h.newConsole(b)
		h.consoles[b.Name] = con
	}
	h.nextID++
	v := newViewer(ctx, c, h.nextID, canWrite)
	if err := con.add(v); err != nil {
		if con.empty() {
			delete(h.consoles, b.Name)
			go con.close()
		}
		return nil, nil, err
	}
	return con, v, nil
}

// leave removes a viewer and closes the console when it was the last.
func (h *Hub) leave(con *console, v *viewer) {
	h.mu.Lock()
	last := con.remove(v)
	var done chan struct{}
	if last && h.consoles[con.bmc.Name] == con {
		delete(h.consoles, con.bmc.Name)
		done = make(chan struct{})
		h.closing[con.bmc.Name] = done
	}
	h.mu.Unlock()
	if last {
		con.close()
	}
	if done != nil {
		h.mu.Lock()
		if h.closing[con.bmc.Name] == done {
			delete(h.closing, con.bmc.Name)
		}
		h.mu.Unlock()
		close(done)
	}
}

// newConsole opens the BMC's console line and the console's output recording.
func (h *Hub) newConsole(b *service.BMC) *console {
	con := &console{hub: h, bmc: b, id: newID(), ring: newRing(h.cfg.Scrollback), started: time.Now()}
	con.output = newRecorder(h.svc.Audit, audit.Record{Code: audit.CodeConsoleOutput, Door: audit.DoorSystem,
		Target: b.Name, Outcome: audit.OutcomeOK, Fields: map[string]string{audit.FieldConsole: con.id}}, con.recordingFailed)
	con.line, con.lineBuffer = h.cfg.Open(b, LineEvents{OnOutput: con.onOutput, OnStatus: con.onStatus, OnInputLost: con.onInputLost})
	return con
}

// Reload re-checks every attached viewer against the current state: a
// viewer whose account the config no longer lets act, or who lost
// console.attach, is detached with the reason; a writer that lost
// console.write is demoted. A viewer who types before this pass reaches
// them is re-checked first (console.typed), so no keystroke is decided
// under the old state.
//
// A console whose target the reload changed (how its line reaches the BMC:
// SOL or the BMC's SSH console service, the address, account, profile or
// pinned host key) or whose BMC it removed is ended: its viewers are told
// why and detached, it is recorded (console.status), and its line is
// closed, so the next attach opens a line to the new target. Viewers are
// not moved onto the new target on their own: it may be another machine
// or another host key, and keystrokes typed for the old one must not
// reach it unseen.
func (h *Hub) Reload(ctx context.Context) {
	st := h.svc.State()
	h.mu.Lock()
	cons := make([]*console, 0, len(h.consoles))
	var ended []retired
	for name, c := range h.consoles {
		nb, ok := st.Inventory.Lookup(name)
		why := ""
		switch {
		case !ok:
			why = "BMC removed by reload"
		case !sameTarget(c.bmc, nb):
			why = "console target changed by reload"
		}
		if why == "" {
			cons = append(cons, c)
			continue
		}
		delete(h.consoles, name)
		done := make(chan struct{})
		h.closing[name] = done // a new attach waits for the old line to let go
		ended = append(ended, retired{c: c, why: why, done: done})
	}
	h.mu.Unlock()
	for _, r := range ended {
		h.retire(ctx, r)
	}
	for _, c := range cons {
		c.recheck(ctx)
	}
}

// retired is a console a reload ended.
type retired struct {
	c    *console
	why  string
	done chan struct{}
}

// retire records why a console ends, detaches its viewers with that
// reason and closes its line (in the background: releasing a SOL payload
// can take a while), then lets attaches to the BMC go on.
func (h *Hub) retire(ctx context.Context, r retired) {
	c := r.c
	rec := audit.Record{Code: audit.CodeConsoleStatus, Door: audit.DoorSystem, Target: c.bmc.Name, Outcome: audit.OutcomeError,
		Reason: r.why, Fields: map[string]string{audit.FieldConsole: c.id, "state": "ended"}}
	if err := h.svc.Audit(ctx, rec); err != nil {
		h.log.Error("console end not recorded", "bmc", c.bmc.Name, "console", c.id, "err", err)
	}
	c.endAll(&service.UserError{Msg: "detached: " + r.why})
	go func() {
		c.close()
		h.mu.Lock()
		if h.closing[c.bmc.Name] == r.done {
			delete(h.closing, c.bmc.Name)
		}
		h.mu.Unlock()
		close(r.done)
	}()
}

// sameTarget reports whether a console line opened for a still reaches
// the BMC as b says: the same way (SOL, SSH console service or none) with
// the same address, account, credentials, profile and pinned host key.
func sameTarget(a, b *service.BMC) bool {
	if a.NoConsole != b.NoConsole || (a.SSHConsole == nil) != (b.SSHConsole == nil) {
		return false
	}
	if a.SSHConsole != nil {
		return reflect.DeepEqual(*a.SSHConsole, *b.SSHConsole)
	}
	return a.Endpoint == b.Endpoint
}

// Close detaches every viewer and closes every console.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	cons := h.consoles
	h.consoles = map[string]*console{}
	h.mu.Unlock()
	for _, c := range cons {
		c.endAll(errHubClosed)
	}
	for _, c := range cons {
		c.close()
	}
}

// Flush appends the output every console has buffered for its recording
// now, instead of at its flush deadline, and returns once it is in the
// audit log (benchmarks and tests that read the log right after a burst).
func (h *Hub) Flush() {
	h.mu.Lock()
	cons := make([]*console, 0, len(h.consoles))
	for _, c := range h.consoles {
		cons = append(cons, c)
	}
	h.mu.Unlock()
	for _, c := range cons {
		c.output.flushNow()
	}
}

// Viewers returns how many viewers are attached in all (for tests and
// metrics).
func (h *Hub) Viewers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.consoles {
		n += c.count()
	}
	return n
}

// isUserDetach reports whether err is the user's own detach.
func isUserDetach(err error) bool { return errors.Is(err, errDetached) }

func (h *Hub) idleTimeout() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cfg.IdleTimeout
}

// SetIdleTimeout changes the idle timeout for viewers attaching from now on
// (tests use sub-second values the config does not allow).
func (h *Hub) SetIdleTimeout(d time.Duration) {
	h.mu.Lock()
	h.cfg.IdleTimeout = d
	h.mu.Unlock()
}
