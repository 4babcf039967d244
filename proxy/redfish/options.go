package redfish

import (
	"log/slog"
	"time"
)

// Options tunes a [Broker]. Zero fields take the defaults.
type Options struct {
	MaxConcurrent  int           // requests in flight per BMC (default 2); more callers wait (ctx)
	MaxPending     int           // callers waiting per BMC (default 64); beyond → ErrBusy
	ConnectTimeout time.Duration // TCP connect plus TLS handshake (default 5s)
	CallTimeout    time.Duration // one HTTP exchange, headers and body (default 15s)
	OpTimeout      time.Duration // one operation, logins and every exchange included (default 60s)
	MaxBody        int64         // largest response body read (default 4 MiB)
	IdleLogout     time.Duration // log out of a BMC idle this long (default 10m)
	CycleOffWait   time.Duration // in an off-then-on cycle, the wait for Off (default 60s)
	Logger         *slog.Logger  // default: discard
}

// Defaults.
const (
	DefaultMaxConcurrent  = 2
	DefaultMaxPending     = 64
	DefaultConnectTimeout = 5 * time.Second
	DefaultCallTimeout    = 15 * time.Second
	DefaultOpTimeout      = 60 * time.Second
	DefaultMaxBody        = 4 << 20
	DefaultIdleLogout     = 10 * time.Minute

	// probeAfter is how long a session may sit unused before a write is
	// preceded by a check that the BMC still knows it, so that an expired
	// token is replaced before the write rather than failing it.
	probeAfter = time.Second
	// logoutTimeout bounds one logout (on Close, Forget, idle).
	logoutTimeout = 3 * time.Second
	// maxMembers bounds the members of one collection walked.
	maxMembers = 1024
	// maxLogEntries bounds the log entries read per log service, and
	// maxPages the pages followed.
	maxLogEntries       = 4096
	maxPages            = 64
	DefaultCycleOffWait = 60 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.IdleLogout <= 0 {
		o.IdleLogout = DefaultIdleLogout
	}
	if o.CycleOffWait <= 0 {
		o.CycleOffWait = DefaultCycleOffWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
