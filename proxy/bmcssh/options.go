package bmcssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults.
const (
	DefaultConnectTimeout   = 10 * time.Second
	DefaultStepTimeout      = 10 * time.Second
	DefaultMaxStepOutput    = 64 << 10
	DefaultKeepAlive        = 10 * time.Second
	DefaultKeepAliveTimeout = 10 * time.Second
	DefaultReconnectMin     = 500 * time.Millisecond
	DefaultReconnectMax     = 30 * time.Second
	DefaultRefusedRetry     = 5 * time.Minute
	DefaultInputBuffer      = 16 << 10
	DefaultTerm             = "vt100"
	DefaultCols             = 80
	DefaultRows             = 24
	DefaultBreakLength      = 500 * time.Millisecond
)

// DialFunc opens the TCP connection to a BMC's SSH service.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Secret is a password. Its String, GoString and LogValue never show it,
// so a Target printed or logged by mistake does not leak it.
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Target is one BMC's SSH console service and the gateway's credentials
// for it. At least one of Password and Key is set.
type Target struct {
	Name     string  // the BMC's name, for logs and errors
	Addr     string  // host or host:port; without a port, the profile's port
	HostKey  HostKey // the pinned host key; zero: refused (never trusted on first use)
	User     string
	Password Secret     // for "password" and "keyboard-interactive" logins
	Key      ssh.Signer // for "publickey" logins; tried first
	Profile  Profile    // how to get from the login to the console
}

// String describes the target without its credentials.
func (t Target) String() string {
	return fmt.Sprintf("%s (ssh %s@%s, profile %s)", t.Name, t.User, t.address(), t.Profile.Name)
}

// GoString implements fmt.GoStringer: no credentials.
func (t Target) GoString() string { return "bmcssh.Target{" + t.String() + "}" }

// LogValue implements slog.LogValuer: no credentials.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", t.Name), slog.String("addr", t.address()),
		slog.String("user", t.User), slog.String("profile", t.Profile.Name))
}

// address is host:port, the port from the profile (or 22) when Addr has none.
func (t Target) address() string {
	if _, _, err := net.SplitHostPort(t.Addr); err == nil {
		return t.Addr
	}
	port := t.Profile.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Addr, strconv.Itoa(port))
}

// Validate reports what makes the target unusable. A host key is not
// required here (a line without one reports KindHostKey, with the key the
// BMC presented, so the operator can pin it).
func (t Target) Validate() error {
	var errs []error
	host, port, err := net.SplitHostPort(t.address())
	switch {
	case t.Addr == "":
		errs = append(errs, errors.New("addr: empty"))
	case err != nil || host == "":
		errs = append(errs, fmt.Errorf("addr: %q is not host or host:port", t.Addr))
	default:
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("addr: bad port %q", port))
		}
	}
	if t.User == "" {
		errs = append(errs, errors.New("user: empty"))
	}
	if t.Password == "" && t.Key == nil {
		errs = append(errs, errors.New("credentials: neither a password nor a private key"))
	}
	if err := t.Profile.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("profile: %w", err))
	}
	return errors.Join(errs...)
}

// Options tune a Line. Zero fields take the defaults.
type Options struct {
	ConnectTimeout   time.Duration // dial, handshake, login, PTY and shell (10s)
	StepTimeout      time.Duration // a profile step without its own timeout (10s)
	MaxStepOutput    int           // bytes a step may read without finding its text (64 KiB)
	KeepAlive        time.Duration // keep-alive request interval (10s)
	KeepAliveTimeout time.Duration // a keep-alive unanswered this long means the BMC is lost (10s)
	ReconnectMin     time.Duration // first reconnect delay (500ms)
	ReconnectMax     time.Duration // cap of the exponential backoff (30s)
	RefusedRetry     time.Duration // delay after a refusal: host key, login, algorithms (5m)
	InputBuffer      int           // bytes of input waiting for the BMC (16 KiB)
	Term             string        // TERM of the PTY (vt100)
	Cols, Rows       int           // PTY size (80x24)
	BreakLength      time.Duration // serial break length asked for (500ms)
	Dial             DialFunc      // default: a net.Dialer
	Logger           *slog.Logger  // default: discard

	// OnOutput receives console output in order. It must not block and
	// must not keep p.
	OnOutput func(p []byte)
	// OnStatus receives state changes. It must not block.
	OnStatus func(Status)
	// OnInputLost receives input that was queued but not written to the
	// BMC before the connection was lost (or the line closed), with the
	// reason in plain words. It is never sent later. It must not block and
	// must not keep p.
	OnInputLost func(p []byte, why string)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ConnectTimeout, DefaultConnectTimeout)
	def(&o.StepTimeout, DefaultStepTimeout)
	def(&o.KeepAlive, DefaultKeepAlive)
	def(&o.KeepAliveTimeout, DefaultKeepAliveTimeout)
	def(&o.ReconnectMin, DefaultReconnectMin)
	def(&o.ReconnectMax, DefaultReconnectMax)
	def(&o.RefusedRetry, DefaultRefusedRetry)
	def(&o.BreakLength, DefaultBreakLength)
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.MaxStepOutput <= 0 {
		o.MaxStepOutput = DefaultMaxStepOutput
	}
	if o.InputBuffer <= 0 {
		o.InputBuffer = DefaultInputBuffer
	}
	if o.Term == "" {
		o.Term = DefaultTerm
	}
	if o.Cols <= 0 {
		o.Cols = DefaultCols
	}
	if o.Rows <= 0 {
		o.Rows = DefaultRows
	}
	if o.Dial == nil {
		o.Dial = (&net.Dialer{}).DialContext
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnOutput == nil {
		o.OnOutput = func([]byte) {}
	}
	if o.OnStatus == nil {
		o.OnStatus = func(Status) {}
	}
	if o.OnInputLost == nil {
		o.OnInputLost = func([]byte, string) {}
	}
	return o
}
