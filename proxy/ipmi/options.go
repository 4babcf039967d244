package ipmi

import (
	"log/slog"
	"time"
)

// Options tunes a [Broker] (and [Dial]). Zero fields take the defaults.
type Options struct {
	SessionsPerBMC int           // max concurrent warm sessions per BMC (default 2); calls beyond wait (ctx)
	MaxPending     int           // max callers waiting per BMC (default 64), beyond → ErrBusy
	CallTimeout    time.Duration // per IPMI call (default 10s), applied on top of ctx
	ConnectTimeout time.Duration // session establishment (default 5s)
	KeepAlive      time.Duration // keep idle warm sessions alive (default 15s)
	IdleClose      time.Duration // close sessions idle longer than this (default 10m)
	Logger         *slog.Logger  // default: discard

	// onHandshake, when set, is called each time a session handshake starts
	// (Open Session Request sent). Used by tests to count handshakes.
	onHandshake func(bmc string)
}

// Defaults.
const (
	DefaultSessionsPerBMC = 2
	DefaultMaxPending     = 64
	DefaultCallTimeout    = 10 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	DefaultIdleClose      = 10 * time.Minute

	// The library never retransmits a request itself: the session guard
	// does, for session setup and reads only (a repeated chassis control
	// may run twice on BMCs that do not reject duplicate sequence numbers).
	maxExchangeTimeout = 5 * time.Second
	connectAttempts    = 2
	closeTimeout       = time.Second
)

func (o Options) withDefaults() Options {
	if o.SessionsPerBMC <= 0 {
		o.SessionsPerBMC = DefaultSessionsPerBMC
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.IdleClose <= 0 {
		o.IdleClose = DefaultIdleClose
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// exchangeTimeout bounds one request/response exchange: half the call
// timeout, between 100ms and 5s.
func (o Options) exchangeTimeout() time.Duration {
	return max(min(o.CallTimeout/2, maxExchangeTimeout), 100*time.Millisecond)
}
