package redfish

import (
	"context"
	"strings"
)

// Info describes the system and its BMC. Health is "ok", "warning",
// "critical" or "" (not reported). Field names shared with the IPMI
// broker's DeviceInfo have the same JSON keys.
type Info struct {
	Manufacturer    string     `json:"manufacturer"`
	Model           string     `json:"model"`
	SerialNumber    string     `json:"serial_number"`
	PartNumber      string     `json:"part_number,omitempty"`
	BIOSVersion     string     `json:"bios_version"`
	FirmwareVersion string     `json:"firmware_version"` // the BMC's
	BMCModel        string     `json:"bmc_model,omitempty"`
	Health          string     `json:"health"`
	PowerState      PowerState `json:"power_state"`
	GUID            string     `json:"guid"` // the system's UUID
	HostName        string     `json:"host_name,omitempty"`
	RedfishVersion  string     `json:"redfish_version"`
	SystemID        string     `json:"system_id"`
	ManagerID       string     `json:"manager_id,omitempty"`
}

type status struct {
	State        string
	Health       string
	HealthRollup string
}

// health maps a Redfish Health value to ok/warning/critical.
func health(h string) string {
	switch h {
	case "OK":
		return "ok"
	case "Warning":
		return "warning"
	case "Critical":
		return "critical"
	}
	return ""
}

// text makes BMC-supplied text printable and bounded.
func text(s string) string {
	s = printable(s)
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}

// Info returns the system's identity and health and the BMC's firmware.
func (b *Broker) Info(ctx context.Context, ep Endpoint) (Info, error) {
	var info Info
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		root, err := m.serviceRoot(ctx)
		if err != nil {
			return err
		}
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		var sys struct {
			Manufacturer, Model, SerialNumber, PartNumber string
			BiosVersion, PowerState, UUID, HostName       string
			Status                                        status
		}
		if _, err := m.get(ctx, sp, "system", &sys); err != nil {
			return err
		}
		h := sys.Status.HealthRollup
		if h == "" {
			h = sys.Status.Health
		}
		info = Info{
			Manufacturer: text(sys.Manufacturer), Model: text(sys.Model), SerialNumber: text(sys.SerialNumber),
			PartNumber: text(sys.PartNumber), BIOSVersion: text(sys.BiosVersion), Health: health(h),
			PowerState: powerState(sys.PowerState), GUID: strings.ToLower(text(sys.UUID)), HostName: text(sys.HostName),
			RedfishVersion: text(root.RedfishVersion), SystemID: text(lastSegment(sp)),
		}
		mp, err := m.managerPath(ctx)
		if err != nil {
			if k := KindOf(err); k == KindUnsupported || k == KindConfig {
				m.o.Logger.Info("redfish manager not found; no BMC firmware version", "bmc", m.name, "err", err)
				return nil
			}
			return err
		}
		var mgr struct{ FirmwareVersion, Model string }
		if _, err := m.get(ctx, mp, "manager", &mgr); err != nil {
			return err
		}
		info.FirmwareVersion, info.BMCModel, info.ManagerID = text(mgr.FirmwareVersion), text(mgr.Model), text(lastSegment(mp))
		return nil
	})
	return info, err
}
