package sshd

import (
	"context"
	"fmt"

	"github.com/bmcgate/bmcgate/gateway/console"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// ConsoleService is the part of the console hub the SSH door uses.
type ConsoleService interface {
	Attach(ctx context.Context, c service.Caller, bmc string, t console.Terminal, takeover bool) error
}

// consoleCommands are the Serial-over-LAN console commands.
func consoleCommands() []*command {
	return []*command{
		{name: "console", usage: "console BMC [--takeover]  (needs ssh -t)",
			summary: "attach to a BMC's serial console (~? for escapes, ~. to detach)",
			flags:   flagSpec{"takeover": false}, run: cmdConsole},
	}
}

func cmdConsole(e *env, p parsed) int {
	if len(p.args) != 1 {
		return usage(e, "console")
	}
	if e.srv.cfg.Console == nil {
		fmt.Fprintln(e.errw, "bmcgate: consoles are disabled on this gateway")
		return exitFailed
	}
	if !e.tty || e.sess == nil {
		fmt.Fprintln(e.errw, "bmcgate: the console needs a terminal: connect with ssh -t")
		return exitUsage
	}
	se := e.sess
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel() // the console's pending read returns without taking input from the prompt
	t := console.Terminal{In: ctxReader{ctx, se.input()}, Out: se.ch, Breaks: se.breaks}
	if err := e.srv.cfg.Console.Attach(ctx, e.caller, p.args[0], t, p.has("takeover")); err != nil {
		return e.fail(err)
	}
	return exitOK
}
