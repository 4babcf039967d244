package service

import (
	"context"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// Protocols a BMC's commands travel over (configs' bmcs[].protocol).
const (
	ProtocolIPMI    = "ipmi"
	ProtocolRedfish = "redfish"
)

// RedfishBroker is the subset of the Redfish broker (proxy/redfish) that
// the service uses: RedfishTransport's operations and virtual media.
type RedfishBroker interface {
	PowerStatus(ctx context.Context, ep redfish.Endpoint) (redfish.PowerState, error)
	Power(ctx context.Context, ep redfish.Endpoint, op redfish.PowerOp) (redfish.PowerResult, error)
	Info(ctx context.Context, ep redfish.Endpoint) (redfish.Info, error)
	Sensors(ctx context.Context, ep redfish.Endpoint) ([]redfish.Sensor, error)
	SEL(ctx context.Context, ep redfish.Endpoint, limit int) ([]redfish.LogEntry, error)
	ClearSEL(ctx context.Context, ep redfish.Endpoint) ([]string, error)
	Boot(ctx context.Context, ep redfish.Endpoint) (redfish.BootOverride, error)
	SetBoot(ctx context.Context, ep redfish.Endpoint, set redfish.BootSet) (redfish.BootOverride, error)
	Media(ctx context.Context, ep redfish.Endpoint) ([]redfish.MediaSlot, error)
	InsertMedia(ctx context.Context, ep redfish.Endpoint, slot, imageURL string) (redfish.MediaSlot, error)
	EjectMedia(ctx context.Context, ep redfish.Endpoint, slot string) (redfish.MediaSlot, error)
}

// SetRedfish installs the Redfish broker; BMCs whose Protocol is
// ProtocolRedfish are reached through it.
func (s *Service) SetRedfish(rb RedfishBroker) { s.redfish.Store(&rb) }

// redfishBroker returns the installed Redfish broker, or one that refuses
// every call when none is.
func (s *Service) redfishBroker() RedfishBroker {
	if rb := s.redfish.Load(); rb != nil {
		return *rb
	}
	return noRedfish{}
}

// RedfishTransport is the Transport over Redfish: it reaches each BMC at
// its inventory entry's Redfish endpoint. Sensors and log entries are
// converted into the service's types (the doors render one shape); what
// Redfish says beyond IPMI's device information is kept where the doors
// show it: the system's model, serial and firmware (SystemInfo), and how a
// power operation was done.
type RedfishTransport struct{ Broker RedfishBroker }

// PowerStatus reads the system's PowerState.
func (t RedfishTransport) PowerStatus(ctx context.Context, b *BMC) (PowerState, error) {
	return t.Broker.PowerStatus(ctx, b.Redfish)
}

// Power resets the system with the matching ResetType.
func (t RedfishTransport) Power(ctx context.Context, b *BMC, op PowerOp) error {
	_, err := t.PowerNote(ctx, b, op)
	return err
}

// PowerNote is Power that also says how it was done (a cycle as off then
// on, on a BMC without PowerCycle).
func (t RedfishTransport) PowerNote(ctx context.Context, b *BMC, op PowerOp) (string, error) {
	r, err := t.Broker.Power(ctx, b.Redfish, op)
	return r.Note, err
}

// DeviceInfo is the part of the system's information that fits the IPMI
// shape; Info uses SystemInfo instead.
func (t RedfishTransport) DeviceInfo(ctx context.Context, b *BMC) (DeviceInfo, error) {
	i, err := t.Broker.Info(ctx, b.Redfish)
	if err != nil {
		return DeviceInfo{}, err
	}
	return DeviceInfo{Manufacturer: i.Manufacturer, FirmwareVersion: i.FirmwareVersion, GUID: i.GUID}, nil
}

// SystemInfo reads the system and manager: model, serial, BIOS and BMC
// firmware, health.
func (t RedfishTransport) SystemInfo(ctx context.Context, b *BMC) (redfish.Info, error) {
	return t.Broker.Info(ctx, b.Redfish)
}

// Sensors reads the Sensors collection (or Thermal and Power), with
// thresholds, health and state.
func (t RedfishTransport) Sensors(ctx context.Context, b *BMC) ([]Sensor, error) {
	ss, err := t.Broker.Sensors(ctx, b.Redfish)
	if err != nil {
		return nil, err
	}
	out := make([]Sensor, len(ss))
	for i, s := range ss {
		out[i] = sensorFromRedfish(s)
	}
	return out, nil
}

// SEL reads the newest limit entries of the system's and manager's log
// services, newest first, each with its log service and string id.
func (t RedfishTransport) SEL(ctx context.Context, b *BMC, limit int) ([]LogEntry, error) {
	es, err := t.Broker.SEL(ctx, b.Redfish, limit)
	if err != nil {
		return nil, err
	}
	return selFromRedfish(es), nil
}

// ClearSEL clears the log services that can be cleared.
func (t RedfishTransport) ClearSEL(ctx context.Context, b *BMC) error {
	_, err := t.Broker.ClearSEL(ctx, b.Redfish)
	return err
}

// Boot reads the system's boot override.
func (t RedfishTransport) Boot(ctx context.Context, b *BMC) (BootView, error) {
	o, err := t.Broker.Boot(ctx, b.Redfish)
	if err != nil {
		return BootView{}, err
	}
	return BootView{Target: o.Target, Enabled: o.Enabled, Mode: o.Mode, Supported: o.Supported, Protocol: ProtocolRedfish}, nil
}

// SetBoot PATCHes the boot override (honouring the resource's ETag).
func (t RedfishTransport) SetBoot(ctx context.Context, b *BMC, set BootRequest) error {
	_, err := t.Broker.SetBoot(ctx, b.Redfish, redfish.BootSet{Target: set.Target, Enabled: set.Enabled, Mode: set.Mode})
	return err
}

// systemInfoer is a Transport that has more to say than DeviceInfo.
type systemInfoer interface {
	SystemInfo(ctx context.Context, b *BMC) (redfish.Info, error)
}

// powerNoter is a Transport that says how a power operation was done.
type powerNoter interface {
	PowerNote(ctx context.Context, b *BMC, op PowerOp) (string, error)
}

// MediaTransport is a Transport with virtual media slots; RedfishTransport
// is one. imageURL is always a one-time URL the gateway granted.
type MediaTransport interface {
	Media(ctx context.Context, b *BMC) ([]redfish.MediaSlot, error)
	InsertMedia(ctx context.Context, b *BMC, slot, imageURL string) (redfish.MediaSlot, error)
	EjectMedia(ctx context.Context, b *BMC, slot string) (redfish.MediaSlot, error)
}

// Media lists the manager's virtual media slots.
func (t RedfishTransport) Media(ctx context.Context, b *BMC) ([]redfish.MediaSlot, error) {
	return t.Broker.Media(ctx, b.Redfish)
}

// InsertMedia inserts the image at imageURL into slot.
func (t RedfishTransport) InsertMedia(ctx context.Context, b *BMC, slot, imageURL string) (redfish.MediaSlot, error) {
	return t.Broker.InsertMedia(ctx, b.Redfish, slot, imageURL)
}

// EjectMedia ejects slot's media.
func (t RedfishTransport) EjectMedia(ctx context.Context, b *BMC, slot string) (redfish.MediaSlot, error) {
	return t.Broker.EjectMedia(ctx, b.Redfish, slot)
}

// BootTransport is a Transport that reads and sets the boot override;
// both IPMITransport and RedfishTransport are.
type BootTransport interface {
	Boot(ctx context.Context, b *BMC) (BootView, error)
	SetBoot(ctx context.Context, b *BMC, set BootRequest) error
}

// BootView is a BMC's boot override, alike on both transports. Target is
// none, pxe, disk, cdrom, bios, usb (or a rarer one); Enabled is once,
// persistent or disabled; Mode is uefi, legacy or "" (not reported);
// Supported lists the targets the BMC says it takes (Redfish only).
type BootView struct {
	Target    string   `json:"target"`
	Enabled   string   `json:"enabled"`
	Mode      string   `json:"mode,omitempty"`
	Supported []string `json:"supported,omitempty"`
	Protocol  string   `json:"protocol"`
}

func (b BootView) String() string {
	s := "boot " + b.Target + " " + b.Enabled
	if b.Mode != "" {
		s += " " + b.Mode
	}
	return s
}

// BootRequest is a boot override to set: Target is required, Enabled is
// once (default) or persistent, Mode is uefi, legacy or "" (unchanged).
type BootRequest struct {
	Target, Enabled, Mode string
}

// IPMIBootBroker is the IPMI broker's boot device part.
type IPMIBootBroker interface {
	Boot(ctx context.Context, ep ipmi.Endpoint) (ipmi.BootOverride, error)
	SetBoot(ctx context.Context, ep ipmi.Endpoint, set ipmi.BootSet) error
}

// Boot reads Get System Boot Options (boot flags).
func (t IPMITransport) Boot(ctx context.Context, b *BMC) (BootView, error) {
	bb, ok := t.Broker.(IPMIBootBroker)
	if !ok {
		return BootView{}, &UserError{Msg: "the IPMI broker cannot read boot options"}
	}
	o, err := bb.Boot(ctx, b.Endpoint)
	if err != nil {
		return BootView{}, err
	}
	return BootView{Target: o.Target, Enabled: o.Enabled, Mode: o.Mode, Protocol: ProtocolIPMI}, nil
}

// SetBoot writes Set System Boot Options with the boot flags valid bit.
func (t IPMITransport) SetBoot(ctx context.Context, b *BMC, set BootRequest) error {
	bb, ok := t.Broker.(IPMIBootBroker)
	if !ok {
		return &UserError{Msg: "the IPMI broker cannot set boot options"}
	}
	return bb.SetBoot(ctx, b.Endpoint, ipmi.BootSet{Target: set.Target, Enabled: set.Enabled, Mode: set.Mode})
}

// noRedfish refuses every Redfish call.
type noRedfish struct{}

var errNoRedfish = &UserError{Msg: "this gateway has no Redfish broker"}

func (noRedfish) PowerStatus(context.Context, redfish.Endpoint) (redfish.PowerState, error) {
	return redfish.PowerStateUnknown, errNoRedfish
}
func (noRedfish) Power(context.Context, redfish.Endpoint, redfish.PowerOp) (redfish.PowerResult, error) {
	return redfish.PowerResult{}, errNoRedfish
}
func (noRedfish) Info(context.Context, redfish.Endpoint) (redfish.Info, error) {
	return redfish.Info{}, errNoRedfish
}
func (noRedfish) Sensors(context.Context, redfish.Endpoint) ([]redfish.Sensor, error) {
	return nil, errNoRedfish
}
func (noRedfish) SEL(context.Context, redfish.Endpoint, int) ([]redfish.LogEntry, error) {
	return nil, errNoRedfish
}
func (noRedfish) ClearSEL(context.Context, redfish.Endpoint) ([]string, error) {
	return nil, errNoRedfish
}
func (noRedfish) Boot(context.Context, redfish.Endpoint) (redfish.BootOverride, error) {
	return redfish.BootOverride{}, errNoRedfish
}
func (noRedfish) SetBoot(context.Context, redfish.Endpoint, redfish.BootSet) (redfish.BootOverride, error) {
	return redfish.BootOverride{}, errNoRedfish
}
func (noRedfish) Media(context.Context, redfish.Endpoint) ([]redfish.MediaSlot, error) {
	return nil, errNoRedfish
}
func (noRedfish) InsertMedia(context.Context, redfish.Endpoint, string, string) (redfish.MediaSlot, error) {
	return redfish.MediaSlot{}, errNoRedfish
}
func (noRedfish) EjectMedia(context.Context, redfish.Endpoint, string) (redfish.MediaSlot, error) {
	return redfish.MediaSlot{}, errNoRedfish
}
