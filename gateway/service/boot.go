package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/bmcgate/bmcgate/authz"
)

// Boot targets, persistence and modes a user may ask for.
var (
	bootTargets     = []string{"none", "pxe", "disk", "cdrom", "bios", "usb"}
	bootPersistence = []string{"once", "persistent"}
	bootModes       = []string{"uefi", "legacy"}
)

// Boot reads a BMC's boot override.
func (s *Service) Boot(ctx context.Context, c Caller, name string) (Result, error) {
	return s.single(ctx, c, authz.BootRead, name, func(ctx context.Context, b *BMC) (any, error) {
		bt, err := s.bootTransport(b)
		if err != nil {
			return nil, err
		}
		return bt.Boot(ctx, b)
	})
}

// bootTransport is b's transport when it can reach the boot override.
func (s *Service) bootTransport(b *BMC) (BootTransport, error) {
	bt, ok := s.transport(b).(BootTransport)
	if !ok {
		return nil, &UserError{Msg: "this BMC's transport has no boot device support"}
	}
	return bt, nil
}

// SetBoot sets the boot override on every selected BMC, over each one's
// own transport. A successful result carries the override read back.
func (s *Service) SetBoot(ctx context.Context, c Caller, set BootRequest, selectors []string, emit func(Result)) error {
	switch {
	case !slices.Contains(bootTargets, set.Target):
		return &UserError{Msg: fmt.Sprintf("unknown boot target %s (use pxe, disk, cdrom, bios, usb or none)", quote(set.Target))}
	case set.Enabled != "" && !slices.Contains(bootPersistence, set.Enabled):
		return &UserError{Msg: "boot persistence is once or persistent"}
	case set.Mode != "" && !slices.Contains(bootModes, set.Mode):
		return &UserError{Msg: "boot mode is uefi or legacy"}
	}
	if set.Enabled == "" {
		set.Enabled = "once"
	}
	req := Request{Caller: c, Action: authz.BootSet, Selectors: selectors}
	return s.run(ctx, req, func(ctx context.Context, b *BMC) (any, error) {
		t, err := s.bootTransport(b)
		if err != nil {
			return nil, err
		}
		if err := t.SetBoot(ctx, b, set); err != nil {
			return nil, err
		}
		return t.Boot(ctx, b)
	}, emit)
}
