package ipmi

import (
	"context"
	"fmt"
	"strings"

	"github.com/bougou/go-ipmi/pkg/command/chassis"
	"github.com/bougou/go-ipmi/pkg/types"
)

// PowerState is the chassis power state.
type PowerState string

// Power states.
const (
	PowerStateOn      PowerState = "on"
	PowerStateOff     PowerState = "off"
	PowerStateUnknown PowerState = "unknown"
)

// PowerOp is a chassis power operation.
type PowerOp string

// Power operations. PowerSoft asks the OS for an orderly (ACPI) shutdown.
const (
	PowerOn    PowerOp = "on"
	PowerOff   PowerOp = "off"
	PowerCycle PowerOp = "cycle"
	PowerReset PowerOp = "reset"
	PowerSoft  PowerOp = "soft"
)

func (op PowerOp) control() (chassis.ChassisControl, bool) {
	switch op {
	case PowerOn:
		return chassis.ChassisControlPowerUp, true
	case PowerOff:
		return chassis.ChassisControlPowerDown, true
	case PowerCycle:
		return chassis.ChassisControlPowerCycle, true
	case PowerReset:
		return chassis.ChassisControlHardReset, true
	case PowerSoft:
		return chassis.ChassisControlSoftShutdown, true
	}
	return 0, false
}

// Valid reports whether op is one of the known operations.
func (op PowerOp) Valid() bool {
	_, ok := op.control()
	return ok
}

// PowerStatus returns the chassis power state.
func (s *Session) PowerStatus(ctx context.Context) (PowerState, error) {
	state := PowerStateUnknown
	err := s.call(ctx, false, func(ctx context.Context) error {
		r, err := s.c.GetChassisStatus(ctx)
		if err != nil {
			return err
		}
		state = PowerStateOff
		if r.PowerIsOn {
			state = PowerStateOn
		}
		return nil
	})
	if err != nil {
		return PowerStateUnknown, err
	}
	return state, nil
}

// Power runs a chassis control command. A BMC that refuses the operation in
// the present state (for example cycle while off) yields ErrBMC with the
// completion code in the message.
func (s *Session) Power(ctx context.Context, op PowerOp) error {
	ctl, ok := op.control()
	if !ok {
		return newError(s.bmc, KindBMC, fmt.Sprintf("unknown power operation %q", string(op)), nil)
	}
	return s.call(ctx, true, func(ctx context.Context) error {
		_, err := s.c.ChassisControl(ctx, ctl)
		return err
	})
}

// DeviceInfo describes the BMC (Get Device ID and Get System GUID) and the
// session's security parameters.
type DeviceInfo struct {
	DeviceID        uint8  `json:"device_id"`
	DeviceRevision  uint8  `json:"device_revision"`
	FirmwareVersion string `json:"firmware_version"`
	IPMIVersion     string `json:"ipmi_version"`
	ManufacturerID  uint32 `json:"manufacturer_id"`
	Manufacturer    string `json:"manufacturer"`
	ProductID       uint16 `json:"product_id"`
	GUID            string `json:"guid"`
	CipherSuite     int    `json:"cipher_suite"`
	Privilege       string `json:"privilege"`
}

// DeviceInfo returns the BMC's identity.
func (s *Session) DeviceInfo(ctx context.Context) (DeviceInfo, error) {
	var info DeviceInfo
	err := s.call(ctx, false, func(ctx context.Context) error {
		r, err := s.c.GetDeviceID(ctx)
		if err != nil {
			return err
		}
		info = DeviceInfo{
			DeviceID:        r.DeviceID,
			DeviceRevision:  r.DeviceRevision,
			FirmwareVersion: fmt.Sprintf("%d.%02d", r.MajorFirmwareRevision, r.MinorFirmwareRevision),
			IPMIVersion:     fmt.Sprintf("%d.%d", r.MajorIPMIVersion, r.MinorIPMIVersion),
			ManufacturerID:  r.ManufacturerID,
			Manufacturer:    printable(types.OEM(r.ManufacturerID).String()),
			ProductID:       r.ProductID,
			CipherSuite:     s.suite,
			Privilege:       s.priv.String(),
		}
		guid := s.g.snapshot().guid
		g, err := s.c.GetSystemGUID(ctx)
		if err == nil {
			guid = g.GUID
		} else if _, ok := types.IsResponseError(err); !ok {
			return err
		}
		info.GUID = formatGUID(guid)
		return nil
	})
	if err != nil {
		return DeviceInfo{}, err
	}
	return info, nil
}

// formatGUID prints a GUID stored least-significant byte first (IPMI 2.0
// section 20.8) in the usual 8-4-4-4-12 form.
func formatGUID(g [16]byte) string {
	var r [16]byte
	for i := range g {
		r[i] = g[15-i]
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", r[0:4], r[4:6], r[6:8], r[8:10], r[10:16])
}

// printable drops control characters from BMC-supplied text.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s))
}
