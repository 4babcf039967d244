package sshd

import (
	"fmt"
	"slices"

	"github.com/bmcgate/bmcgate/gateway/service"
)

// bootTargetWords are the last word of a "boot" that sets the override.
var bootTargetWords = []string{"none", "pxe", "disk", "cdrom", "bios", "usb"}

func bootCommands() []*command {
	return []*command{{
		name:    "boot",
		usage:   "boot BMC [--json] | boot TARGET... pxe|disk|cdrom|bios|usb|none [--once|--persistent] [--uefi|--legacy] [--json]",
		summary: "show or set the boot device override",
		flags:   flagSpec{"json": false, "once": false, "persistent": false, "uefi": false, "legacy": false},
		run:     cmdBoot,
	}}
}

func cmdBoot(e *env, p parsed) int {
	n := len(p.args)
	if n == 0 {
		return usage(e, "boot")
	}
	if n == 1 && !slices.Contains(bootTargetWords, p.args[0]) {
		if p.has("once") || p.has("persistent") || p.has("uefi") || p.has("legacy") {
			return usage(e, "boot")
		}
		res, err := e.srv.svc.Boot(e.ctx, e.caller, p.args[0])
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { printBoot(e, res) })
	}
	if n < 2 || !slices.Contains(bootTargetWords, p.args[n-1]) {
		return usage(e, "boot")
	}
	if p.has("once") && p.has("persistent") || p.has("uefi") && p.has("legacy") {
		fmt.Fprintln(e.errw, "bmcgate: boot: choose one of --once and --persistent, and one of --uefi and --legacy")
		return exitUsage
	}
	set := service.BootRequest{Target: p.args[n-1], Enabled: "once"}
	if p.has("persistent") {
		set.Enabled = "persistent"
	}
	switch {
	case p.has("uefi"):
		set.Mode = "uefi"
	case p.has("legacy"):
		set.Mode = "legacy"
	}
	return e.fanOut(func(each func(service.Result)) error {
		return e.srv.svc.SetBoot(e.ctx, e.caller, set, p.args[:n-1], each)
	})
}

func printBoot(e *env, r service.Result) {
	v, _ := r.Value.(service.BootView)
	fmt.Fprintf(e.out, "%-16s %s\n", r.BMC, clean(v.String()))
	if len(v.Supported) > 0 {
		fmt.Fprintf(e.out, "%-16s supported: %s\n", "", clean(fmt.Sprint(v.Supported)))
	}
}
