package sshd

import (
	"fmt"

	"github.com/bmcgate/bmcgate/gateway/service"
)

func mediaCommands() []*command {
	return []*command{{
		name:    "media",
		usage:   "media BMC [--json] | media insert BMC IMAGE [--slot SLOT] [--json] | media eject BMC [--slot SLOT] [--json]",
		summary: "list virtual media, insert an image of the gateway's library, eject",
		flags:   flagSpec{"json": false, "slot": true},
		run:     cmdMedia,
	}}
}

func cmdMedia(e *env, p parsed) int {
	slot := p.get("slot")
	switch {
	case len(p.args) == 1 && !p.has("slot"):
		res, err := e.srv.svc.Media(e.ctx, e.caller, p.args[0])
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { printMedia(e, res) })
	case len(p.args) == 3 && p.args[0] == "insert":
		res, err := e.srv.svc.InsertMedia(e.ctx, e.caller, p.args[1], p.args[2], slot)
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { printResult(e, res) })
	case len(p.args) == 2 && p.args[0] == "eject":
		res, err := e.srv.svc.EjectMedia(e.ctx, e.caller, p.args[1], slot)
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { printResult(e, res) })
	}
	return usage(e, "media")
}

func printMedia(e *env, r service.Result) {
	slots, _ := r.Value.([]service.MediaSlotView)
	t := newTable(e.out)
	t.row("SLOT", "TYPES", "INSERTED", "IMAGE")
	for _, s := range slots {
		img := s.ImageName
		if s.Gateway {
			img += " (gateway)"
		} else if img == "" {
			img = "-"
		}
		t.row(s.ID, fmt.Sprint(s.MediaTypes), fmt.Sprint(s.Inserted), img)
	}
	t.flush()
}
