package sol

import (
	"log/slog"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// Defaults.
const (
	DefaultPollActive   = 5 * time.Millisecond
	DefaultPollIdle     = 100 * time.Millisecond
	DefaultKeepAlive    = 10 * time.Second
	DefaultReconnectMin = 500 * time.Millisecond
	DefaultReconnectMax = 30 * time.Second
	DefaultInputBuffer  = 16 << 10

	// maxChunk is the most character data one SOL packet carries.
	maxChunk = 251
)

// Options tune a Line. Zero fields take the defaults.
type Options struct {
	PollActive   time.Duration // poll interval right after input or output (5ms); doubles with every empty poll
	PollIdle     time.Duration // poll interval while the console is idle (100ms)
	KeepAlive    time.Duration // Get Device ID after this long without a packet from the BMC (10s)
	ReconnectMin time.Duration // first re-activation delay (500ms)
	ReconnectMax time.Duration // cap of the exponential backoff (30s)
	InputBuffer  int           // bytes of input waiting for the BMC (16 KiB)
	IPMI         ipmi.Options  // session setup (timeouts)
	Logger       *slog.Logger  // default: discard

	// OnOutput receives console output in order. It must not block and
	// must not keep p.
	OnOutput func(p []byte)
	// OnStatus receives state changes. It must not block.
	OnStatus func(Status)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollActive, DefaultPollActive)
	def(&o.PollIdle, DefaultPollIdle)
	def(&o.KeepAlive, DefaultKeepAlive)
	def(&o.ReconnectMin, DefaultReconnectMin)
	def(&o.ReconnectMax, DefaultReconnectMax)
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.InputBuffer <= 0 {
		o.InputBuffer = DefaultInputBuffer
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
	return o
}
