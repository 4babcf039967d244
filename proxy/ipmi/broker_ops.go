package ipmi

import "context"

// PowerStatus returns the chassis power state of ep's BMC.
func (b *Broker) PowerStatus(ctx context.Context, ep Endpoint) (PowerState, error) {
	state := PowerStateUnknown
	err := b.do(ctx, ep, false, func(ctx context.Context, s *Session) error {
		var err error
		state, err = s.PowerStatus(ctx)
		return err
	})
	return state, err
}

// Power runs a chassis power operation. A timeout after the command was
// sent yields ErrUnknownOutcome; it is never retried blindly.
func (b *Broker) Power(ctx context.Context, ep Endpoint, op PowerOp) error {
	if !op.Valid() {
		return newError(ep.Name, KindBMC, "unknown power operation", nil)
	}
	return b.do(ctx, ep, true, func(ctx context.Context, s *Session) error {
		return s.Power(ctx, op)
	})
}

// DeviceInfo returns the BMC's identity and the session's security
// parameters.
func (b *Broker) DeviceInfo(ctx context.Context, ep Endpoint) (DeviceInfo, error) {
	var info DeviceInfo
	err := b.do(ctx, ep, false, func(ctx context.Context, s *Session) error {
		var err error
		info, err = s.DeviceInfo(ctx)
		return err
	})
	return info, err
}

// Sensors returns every sensor reading. The BMC's sensor data records are
// cached per BMC and read again only when the repository's change stamp
// (Get SDR Repository Info) differs from the one they were read under.
func (b *Broker) Sensors(ctx context.Context, ep Endpoint) ([]Sensor, error) {
	var out []Sensor
	err := b.do(ctx, ep, false, func(ctx context.Context, s *Session) error {
		var err error
		out, err = s.sensors(ctx, b.sdrCache(ep))
		return err
	})
	return out, err
}

// sdrCache returns the SDR cache of ep's BMC while its pool is current (nil
// when the pool was replaced meanwhile: that call reads the SDRs afresh).
func (b *Broker) sdrCache(ep Endpoint) *sdrCache {
	ep = ep.named()
	fp := ep.fingerprint(b.key)
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.pools[ep.Name]; p != nil && p.fp == fp {
		return &p.sdr
	}
	return nil
}

// SEL returns the newest limit System Event Log entries (all if limit <= 0).
func (b *Broker) SEL(ctx context.Context, ep Endpoint, limit int) ([]SELEntry, error) {
	var out []SELEntry
	err := b.do(ctx, ep, false, func(ctx context.Context, s *Session) error {
		var err error
		out, err = s.SEL(ctx, limit)
		return err
	})
	return out, err
}

// ClearSEL erases the System Event Log.
func (b *Broker) ClearSEL(ctx context.Context, ep Endpoint) error {
	return b.do(ctx, ep, true, func(ctx context.Context, s *Session) error {
		return s.ClearSEL(ctx)
	})
}
