package ipmi

import (
	"context"
	"fmt"
	"strings"

	"github.com/bougou/go-ipmi/pkg/types"
)

// Boot override persistence and firmware modes (the words of package
// proxy/redfish, so that both transports print the same).
const (
	BootOnce       = "once"
	BootPersistent = "persistent"
	BootDisabled   = "disabled"
	BootUEFI       = "uefi"
	BootLegacy     = "legacy"
)

// bootDevices maps bmcgate's boot targets to IPMI boot device selectors
// (IPMI 2.0 table 28-14, boot flags data 2). The first entry of a selector
// is its name when read back. "usb" is the remotely connected removable
// media selector, as on the simulated BMCs' Redfish side, where Redfish's
// Usb target shares it.
var bootDevices = []struct {
	name string
	dev  types.BootDeviceSelector
}{
	{"none", types.BootDeviceSelectorNoOverride},
	{"pxe", types.BootDeviceSelectorForcePXE},
	{"disk", types.BootDeviceSelectorForceHardDrive},
	{"cdrom", types.BootDeviceSelectorForceCDROM},
	{"bios", types.BootDeviceSelectorForceBIOSSetup},
	{"usb", types.BootDeviceSelectorForceRemoteMedia},
	{"floppy", types.BootDeviceSelectorForceFloppy},
	{"diags", types.BootDeviceSelectorForceDiagnosticPartition},
	{"remote-drive", types.BootDeviceSelectorForceRemoteHardDrive},
	// Read-back only: variants bmcgate never sets.
	{"disk", types.BootDeviceSelectorForceHardDriveSafe},
	{"cdrom", types.BootDeviceSelectorForceRemoteCDROM},
	{"floppy", types.BootDeviceSelectorForceRemoteFloppy},
}

// ccParamNotSupported is the completion code of a boot options parameter
// the BMC does not implement (or, on some, has never had set).
const ccParamNotSupported = 0x80

// bootSettable are the targets Boot sets, in the order errors list them.
var bootSettable = []string{"none", "pxe", "disk", "cdrom", "bios", "usb", "floppy", "diags", "remote-drive"}

// BootTargets returns the boot targets an IPMI BMC can be asked for.
func BootTargets() []string { return append([]string(nil), bootSettable...) }

// BootOverride is the boot device override of the boot flags parameter.
// Target is one of BootTargets (or "unknown(0xN)" for a selector outside
// the table); Enabled is once, persistent or disabled (the boot flags
// valid bit clear: the BMC does not apply Target); Mode is uefi or legacy.
type BootOverride struct {
	Target  string `json:"target"`
	Enabled string `json:"enabled"`
	Mode    string `json:"mode,omitempty"`
}

// BootSet is a boot override to set: Target is required; Enabled is once
// (default) or persistent; Mode is uefi, legacy or "" (keep the BMC's).
type BootSet struct {
	Target  string
	Enabled string
	Mode    string
}

func bootDevice(name string) (types.BootDeviceSelector, bool) {
	for _, d := range bootDevices[:len(bootSettable)] {
		if d.name == name {
			return d.dev, true
		}
	}
	return 0, false
}

func bootName(dev types.BootDeviceSelector) string {
	for _, d := range bootDevices {
		if d.dev == dev {
			return d.name
		}
	}
	return fmt.Sprintf("unknown(0x%x)", uint8(dev))
}

// check validates s and returns its selector.
func (s BootSet) check() (types.BootDeviceSelector, string) {
	dev, ok := bootDevice(s.Target)
	if !ok {
		return 0, fmt.Sprintf("unsupported boot target %q: IPMI BMCs take %s", s.Target, strings.Join(bootSettable, ", "))
	}
	switch s.Enabled {
	case "", BootOnce, BootPersistent:
	default:
		return 0, fmt.Sprintf("unknown boot persistence %q: use once or persistent", s.Enabled)
	}
	switch s.Mode {
	case "", BootUEFI, BootLegacy:
	default:
		return 0, fmt.Sprintf("unknown boot mode %q: use uefi or legacy", s.Mode)
	}
	return dev, ""
}

func overrideOf(f *types.BootOptionParam_BootFlags) BootOverride {
	o := BootOverride{Target: bootName(f.BootDeviceSelector), Enabled: BootOnce, Mode: BootLegacy}
	if f.BIOSBootType == types.BIOSBootTypeEFI {
		o.Mode = BootUEFI
	}
	if f.Persist {
		o.Enabled = BootPersistent
	}
	if !f.BootFlagsValid || f.BootDeviceSelector == types.BootDeviceSelectorNoOverride {
		o.Enabled = BootDisabled
	}
	return o
}

// readBootFlags reads boot options parameter 5.
func (s *Session) readBootFlags(ctx context.Context) (*types.BootOptionParam_BootFlags, error) {
	f := &types.BootOptionParam_BootFlags{}
	r, err := s.c.GetSystemBootOptionsParam(ctx, types.BootOptionParamSelector_BootFlags, 0, 0)
	if err != nil {
		return nil, err
	}
	if len(r.ParamData) < 5 {
		return nil, malformedError(s.bmc, fmt.Errorf("boot flags of %d bytes", len(r.ParamData)))
	}
	if err := f.Unpack(r.ParamData); err != nil {
		return nil, malformedError(s.bmc, err)
	}
	return f, nil
}

// Boot reads the boot override (Get System Boot Options, boot flags).
func (s *Session) Boot(ctx context.Context) (BootOverride, error) {
	var o BootOverride
	err := s.call(ctx, false, func(ctx context.Context) error {
		f, err := s.readBootFlags(ctx)
		if err != nil {
			return err
		}
		o = overrideOf(f)
		return nil
	})
	return o, err
}

// SetBoot sets the boot override: Set System Boot Options, boot flags with
// the valid bit set, between "set in progress" and "set complete" where
// the BMC supports that lock. Without a Mode the BMC's current firmware
// mode is kept (read first). Every other flag (CMOS clear, keyboard lock,
// verbosity…) is written as zero, as ipmitool does.
func (s *Session) SetBoot(ctx context.Context, set BootSet) error {
	dev, msg := set.check()
	if msg != "" {
		return newError(s.bmc, KindBMC, msg, nil)
	}
	efi := set.Mode == BootUEFI
	if set.Mode == "" {
		err := s.call(ctx, false, func(ctx context.Context) error {
			f, err := s.readBootFlags(ctx)
			if re, ok := types.IsResponseError(err); ok && re.CompletionCode() == ccParamNotSupported {
				return nil // never set: legacy
			}
			if err != nil {
				return err
			}
			efi = f.BIOSBootType == types.BIOSBootTypeEFI
			return nil
		})
		if err != nil {
			return err
		}
	}
	flags := &types.BootOptionParam_BootFlags{
		BootFlagsValid:     true,
		Persist:            set.Enabled == BootPersistent,
		BIOSBootType:       types.BIOSBootTypeLegacy,
		BootDeviceSelector: dev,
	}
	if efi {
		flags.BIOSBootType = types.BIOSBootTypeEFI
	}
	return s.call(ctx, true, func(ctx context.Context) error {
		locked := s.setInProgress(ctx, types.SetInProgress_SetInProgress)
		if err := s.c.SetSystemBootOptionsParamFor(ctx, flags); err != nil {
			if locked {
				s.setInProgress(ctx, types.SetInProgress_SetComplete)
			}
			return unwrapResponse(err)
		}
		if locked {
			s.setInProgress(ctx, types.SetInProgress_SetComplete)
		}
		return nil
	})
}

// setInProgress writes boot options parameter 0 and reports whether the
// BMC took it. Many BMCs (ipmi_sim among them) do not implement the lock;
// its refusal is not an error.
func (s *Session) setInProgress(ctx context.Context, v types.SetInProgressState) bool {
	return s.c.SetSystemBootOptionsParamFor(ctx, &types.BootOptionParam_SetInProgress{Value: v}) == nil
}

// unwrapResponse returns the library's completion-code error if err wraps
// one, so the call's classification sees the BMC's answer.
func unwrapResponse(err error) error {
	if re, ok := types.IsResponseError(err); ok {
		return re
	}
	return err
}

// Boot returns the boot override of ep's BMC.
func (b *Broker) Boot(ctx context.Context, ep Endpoint) (BootOverride, error) {
	var o BootOverride
	err := b.do(ctx, ep, false, func(ctx context.Context, s *Session) error {
		var err error
		o, err = s.Boot(ctx)
		return err
	})
	return o, err
}

// SetBoot sets the boot override of ep's BMC. A timeout after the command
// was sent yields ErrUnknownOutcome.
func (b *Broker) SetBoot(ctx context.Context, ep Endpoint, set BootSet) error {
	if _, msg := set.check(); msg != "" {
		return newError(ep.Name, KindBMC, msg, nil)
	}
	return b.do(ctx, ep, true, func(ctx context.Context, s *Session) error {
		return s.SetBoot(ctx, set)
	})
}
