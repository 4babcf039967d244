package sshd

import (
	"fmt"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
)

func sessionCommands() []*command {
	return []*command{{name: "sessions", usage: "sessions [--json] | sessions terminate ID --reason TEXT",
		summary: "list the live sessions of every door (needs session.join), or end one (needs session.terminate)",
		flags:   flagSpec{"json": false, "reason": true}, run: cmdSessions}}
}

func cmdSessions(e *env, p parsed) int {
	switch {
	case len(p.args) == 0:
		return listSessions(e)
	case len(p.args) == 2 && p.args[0] == "terminate":
		if err := e.srv.svc.Terminate(e.ctx, e.caller, p.args[1], p.get("reason")); err != nil {
			return e.fail(err)
		}
		fmt.Fprintf(e.out, "session %s terminated\n", clean(p.args[1]))
		return exitOK
	}
	return usage(e, "sessions")
}

func listSessions(e *env) int {
	list, err := e.srv.svc.Sessions(e.ctx, e.caller)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		if list == nil {
			list = []service.LiveSession{}
		}
		return e.writeJSON(list)
	}
	fmt.Fprintf(e.out, "%-20s  %-4s  %-16s  %-22s  %-20s  %s\n", "ID", "DOOR", "USER", "FROM", "SINCE", "AUTH")
	for _, ls := range list {
		fmt.Fprintf(e.out, "%-20s  %-4s  %-16s  %-22s  %-20s  %s\n", clean(ls.ID), ls.Door, clean(ls.User), clean(ls.Source),
			ls.Since.UTC().Format(time.RFC3339), clean(ls.Auth))
	}
	return exitOK
}
