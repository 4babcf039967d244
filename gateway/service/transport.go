package service

import (
	"context"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// The values brokered operations return. Power states and operations are
// proxy/ipmi's words, which every transport shares; sensors and event log
// entries are the service's own, transport-neutral types (Sensor,
// LogEntry), into which each transport converts what its BMC answers, so
// the doors never learn which protocol reached a BMC.
type (
	PowerState = ipmi.PowerState // "on", "off"
	PowerOp    = ipmi.PowerOp    // "on", "off", "cycle", "reset", "soft"
	DeviceInfo = ipmi.DeviceInfo
)

// Transport is how the service layer reaches a BMC for the operations it
// brokers: power, device information, sensors and the event log. Every
// method gets the inventory entry, so a transport reads from it what it
// needs (the IPMI endpoint, or another protocol's address and account).
//
// The service decides and audits before it calls a transport and audits
// the outcome after; a transport only acts. It must honour ctx (the
// command timeout), bound what it reads from the BMC, and return errors
// whose text carries no credential. Its error's UserMessage (package
// usererr's rule; proxy/ipmi's and proxy/redfish's errors have one) is the
// line users see, through Message; an error without one shows "internal
// error".
//
// Implementations: IPMITransport (proxy/ipmi). Each BMC uses the service's
// transport unless its inventory entry names its own (BMC.Transport), so a
// Redfish transport (proxy/redfish) plugs in per BMC, with no door change.
type Transport interface {
	PowerStatus(ctx context.Context, b *BMC) (PowerState, error)
	Power(ctx context.Context, b *BMC, op PowerOp) error
	DeviceInfo(ctx context.Context, b *BMC) (DeviceInfo, error)
	Sensors(ctx context.Context, b *BMC) ([]Sensor, error)
	// SEL returns the newest limit entries (all when limit <= 0),
	// newest first.
	SEL(ctx context.Context, b *BMC, limit int) ([]LogEntry, error)
	ClearSEL(ctx context.Context, b *BMC) error
}

// IPMIBroker is the subset of the IPMI broker (proxy/ipmi.Broker) that
// IPMITransport uses.
type IPMIBroker interface {
	PowerStatus(ctx context.Context, ep ipmi.Endpoint) (ipmi.PowerState, error)
	Power(ctx context.Context, ep ipmi.Endpoint, op ipmi.PowerOp) error
	DeviceInfo(ctx context.Context, ep ipmi.Endpoint) (ipmi.DeviceInfo, error)
	Sensors(ctx context.Context, ep ipmi.Endpoint) ([]ipmi.Sensor, error)
	SEL(ctx context.Context, ep ipmi.Endpoint, limit int) ([]ipmi.SELEntry, error)
	ClearSEL(ctx context.Context, ep ipmi.Endpoint) error
}

// IPMITransport is the Transport over IPMI: it reaches each BMC at its
// inventory entry's Endpoint through an IPMI broker.
type IPMITransport struct{ Broker IPMIBroker }

// PowerStatus reads the chassis power state.
func (t IPMITransport) PowerStatus(ctx context.Context, b *BMC) (PowerState, error) {
	return t.Broker.PowerStatus(ctx, b.Endpoint)
}

// Power sends a chassis control.
func (t IPMITransport) Power(ctx context.Context, b *BMC, op PowerOp) error {
	return t.Broker.Power(ctx, b.Endpoint, op)
}

// DeviceInfo reads Get Device ID.
func (t IPMITransport) DeviceInfo(ctx context.Context, b *BMC) (DeviceInfo, error) {
	return t.Broker.DeviceInfo(ctx, b.Endpoint)
}

// Sensors reads the sensors of the SDR repository.
func (t IPMITransport) Sensors(ctx context.Context, b *BMC) ([]Sensor, error) {
	ss, err := t.Broker.Sensors(ctx, b.Endpoint)
	if err != nil {
		return nil, err
	}
	out := make([]Sensor, len(ss))
	for i, s := range ss {
		out[i] = sensorFromIPMI(s)
	}
	return out, nil
}

// SEL reads the newest limit entries of the system event log, newest
// first.
func (t IPMITransport) SEL(ctx context.Context, b *BMC, limit int) ([]LogEntry, error) {
	es, err := t.Broker.SEL(ctx, b.Endpoint, limit)
	if err != nil {
		return nil, err
	}
	return selFromIPMI(es), nil
}

// ClearSEL clears the system event log.
func (t IPMITransport) ClearSEL(ctx context.Context, b *BMC) error {
	return t.Broker.ClearSEL(ctx, b.Endpoint)
}

// transport is the Transport that reaches b: its own, or the service's.
func (s *Service) transport(b *BMC) Transport {
	if b.Transport != nil {
		return b.Transport
	}
	if b.Protocol == ProtocolRedfish {
		return RedfishTransport{Broker: s.redfishBroker()}
	}
	return s.broker
}
