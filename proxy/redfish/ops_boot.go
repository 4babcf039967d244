package redfish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Boot targets, in bmcgate's words, and their Redfish BootSourceOverrideTarget.
var bootTargets = []struct{ name, redfish string }{
	{"none", "None"}, {"pxe", "Pxe"}, {"disk", "Hdd"}, {"cdrom", "Cd"}, {"bios", "BiosSetup"}, {"usb", "Usb"},
	{"floppy", "Floppy"}, {"sdcard", "SDCard"}, {"diags", "Diags"}, {"utilities", "Utilities"}, {"uefi-target", "UefiTarget"},
	{"uefi-http", "UefiHttp"}, {"uefi-shell", "UefiShell"}, {"remote-drive", "RemoteDrive"},
}

func bootName(redfish string) string {
	for _, t := range bootTargets {
		if strings.EqualFold(t.redfish, redfish) {
			return t.name
		}
	}
	return strings.ToLower(text(redfish))
}

func bootRedfish(name string) (string, bool) {
	for _, t := range bootTargets {
		if t.name == name {
			return t.redfish, true
		}
	}
	return "", false
}

// Boot override persistence.
const (
	BootOnce       = "once"
	BootPersistent = "persistent"
	BootDisabled   = "disabled"
)

// Boot firmware modes.
const (
	BootUEFI   = "uefi"
	BootLegacy = "legacy"
)

// BootOverride is the system's boot source override. Target is one of none,
// pxe, disk, cdrom, bios, usb (and the rarer floppy, sdcard, diags,
// utilities, uefi-target, uefi-http, uefi-shell, remote-drive); Enabled is
// once, persistent or disabled; Mode is uefi, legacy or "" (not reported).
// Supported lists the targets the BMC accepts (nil: it does not say).
type BootOverride struct {
	Target    string   `json:"target"`
	Enabled   string   `json:"enabled"`
	Mode      string   `json:"mode,omitempty"`
	Supported []string `json:"supported,omitempty"`
}

// BootSet is a boot override to set. Target is required; Enabled defaults
// to once (persistent for none is the same as disabled); an empty Mode
// leaves the firmware mode as it is.
type BootSet struct {
	Target  string
	Enabled string
	Mode    string
}

type bootDoc struct {
	Boot struct {
		Enabled        string   `json:"BootSourceOverrideEnabled"`
		Target         string   `json:"BootSourceOverrideTarget"`
		Mode           string   `json:"BootSourceOverrideMode"`
		Allowed        []string `json:"BootSourceOverrideTarget@Redfish.AllowableValues"`
		AllowedEnabled []string `json:"BootSourceOverrideEnabled@Redfish.AllowableValues"`
		AllowedMode    []string `json:"BootSourceOverrideMode@Redfish.AllowableValues"`
	}
}

func (d *bootDoc) override() BootOverride {
	o := BootOverride{Target: bootName(d.Boot.Target), Enabled: BootDisabled}
	switch d.Boot.Enabled {
	case "Once":
		o.Enabled = BootOnce
	case "Continuous":
		o.Enabled = BootPersistent
	}
	switch d.Boot.Mode {
	case "UEFI":
		o.Mode = BootUEFI
	case "Legacy":
		o.Mode = BootLegacy
	}
	if o.Target == "" {
		o.Target = "none"
	}
	if a := clean(d.Boot.Allowed); a != nil {
		o.Supported = []string{}
		for _, v := range a {
			o.Supported = append(o.Supported, bootName(v))
		}
	}
	return o
}

// Boot returns the system's boot override.
func (b *Broker) Boot(ctx context.Context, ep Endpoint) (BootOverride, error) {
	var o BootOverride
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		var d bootDoc
		if _, err := m.get(ctx, sp, "system", &d); err != nil {
			return err
		}
		o = d.override()
		return nil
	})
	return o, err
}

// SetBoot sets the boot override with a PATCH of the system's Boot
// (BootSourceOverrideTarget, -Enabled and, when given, -Mode), sending the
// resource's ETag as If-Match. A target the BMC does not list fails with
// ErrUnsupported naming those it supports. It returns the override as read
// back from the BMC.
func (b *Broker) SetBoot(ctx context.Context, ep Endpoint, set BootSet) (BootOverride, error) {
	var o BootOverride
	rt, ok := bootRedfish(set.Target)
	if !ok {
		names := make([]string, 0, len(bootTargets))
		for _, t := range bootTargets[:6] {
			names = append(names, t.name)
		}
		return o, newError(ep.Name, KindConfig, fmt.Sprintf("unknown boot target %q (use one of %s)", printable(set.Target), strings.Join(names, ", ")), nil)
	}
	enabled := map[string]string{"": "Once", BootOnce: "Once", BootPersistent: "Continuous", BootDisabled: "Disabled"}[set.Enabled]
	mode := map[string]string{"": "", BootUEFI: "UEFI", BootLegacy: "Legacy"}[set.Mode]
	if enabled == "" || (mode == "" && set.Mode != "") {
		return o, newError(ep.Name, KindConfig, "boot persistence must be once or persistent, and the mode uefi or legacy", nil)
	}
	if rt == "None" {
		enabled = "Disabled"
	}
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		sp, err := m.systemPath(ctx)
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			var d bootDoc
			etag, err := m.get(ctx, sp, "system", &d)
			if err != nil {
				return err
			}
			target, ok := choose(clean(d.Boot.Allowed), []string{rt})
			if !ok {
				return newError(m.name, KindUnsupported, fmt.Sprintf("the BMC does not support booting from %s (%s); it supports: %s",
					set.Target, rt, strings.Join(d.override().Supported, ", ")), nil)
			}
			if mode != "" {
				if _, ok := choose(clean(d.Boot.AllowedMode), []string{mode}); !ok {
					return newError(m.name, KindUnsupported, fmt.Sprintf("the BMC does not support boot mode %s; it supports: %s",
						mode, supportsText(clean(d.Boot.AllowedMode))), nil)
				}
			}
			if en, ok := choose(clean(d.Boot.AllowedEnabled), []string{enabled}); ok {
				enabled = en
			} else {
				return newError(m.name, KindUnsupported, fmt.Sprintf("the BMC does not support a boot override that is %s; it supports: %s",
					enabled, supportsText(clean(d.Boot.AllowedEnabled))), nil)
			}
			boot := map[string]string{"BootSourceOverrideTarget": target, "BootSourceOverrideEnabled": enabled}
			if mode != "" {
				boot["BootSourceOverrideMode"] = mode
			}
			_, err = m.write(ctx, request{method: http.MethodPatch, path: sp, body: map[string]any{"Boot": boot},
				ifMatch: etag, write: true}, "the boot override")
			var e *Error
			if err != nil && attempt == 0 && etag != "" && errors.As(err, &e) && strings.Contains(e.Err.Error(), "HTTP 412") {
				continue // changed meanwhile: read the new ETag and set the same absolute values again
			}
			if err != nil {
				return err
			}
			var after bootDoc
			if _, err := m.get(ctx, sp, "system", &after); err != nil {
				return err
			}
			o = after.override()
			return nil
		}
	})
	return o, err
}
