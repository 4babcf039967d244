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
	DefaultPayloadCheck = 2 * time.Second
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
	KeepAlive    time.Duration // upper bound of PayloadCheck (10s)
	PayloadCheck time.Duration // check that the payload is still this session's (Get Payload Instance Info) this often while no input is sent (2s, at most KeepAlive)
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
	// OnInputLost receives input that was queued but that the BMC did not
	// accept before the payload was lost (or the line closed), with the
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
	def(&o.PollActive, DefaultPollActive)
	def(&o.PollIdle, DefaultPollIdle)
	def(&o.KeepAlive, DefaultKeepAlive)
	def(&o.PayloadCheck, DefaultPayloadCheck)
	o.PayloadCheck = min(o.PayloadCheck, o.KeepAlive)
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
	if o.OnInputLost == nil {
		o.OnInputLost = func([]byte, string) {}
	}
	return o
}
