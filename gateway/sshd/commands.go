package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// Exit statuses of commands.
const (
	exitOK      = 0
	exitFailed  = 1 // a target failed or was denied, or the command failed
	exitUsage   = 2 // the command line was wrong
	exitRefused = 3 // the gateway refused to act (audit unavailable)
)

// env is what a running command has access to.
type env struct {
	ctx    context.Context
	srv    *Server
	caller service.Caller
	out    io.Writer // stdout
	errw   io.Writer // stderr
	json   bool
	tty    bool
	sess   *session // the SSH session the command runs in
	// forced: the line is a certificate's force-command, and requested is
	// what the client asked for instead (recorded with the command).
	forced    bool
	requested string
}

// command is one entry of the command table.
type command struct {
	name    string
	usage   string
	summary string
	flags   flagSpec
	run     func(e *env, p parsed) int
}

func commandTable() map[string]*command {
	cmds := baseCommands()
	cmds = append(cmds, consoleCommands()...)
	cmds = append(cmds, scanCommands()...)
	cmds = append(cmds, bootCommands()...)
	cmds = append(cmds, mediaCommands()...)
	cmds = append(cmds, credentialCommands()...)
	cmds = append(cmds, sessionCommands()...)
	m := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		m[c.name] = c
	}
	return m
}

func baseCommands() []*command {
	return []*command{
		{name: "help", usage: "help [COMMAND]", summary: "show commands or one command's usage", run: cmdHelp},
		{name: "whoami", usage: "whoami [--json]", summary: "show who the gateway thinks you are", flags: flagSpec{"json": false}, run: cmdWhoami},
		{name: "list", usage: "list [SELECTOR...] [--json]", summary: "list the BMCs you may see", flags: flagSpec{"json": false}, run: cmdList},
		{name: "info", usage: "info BMC [--json]", summary: "show a BMC's device information", flags: flagSpec{"json": false}, run: cmdInfo},
		{name: "power", usage: "power status|on|off|cycle|reset|soft TARGET... [--json]", summary: "read or change power state", flags: flagSpec{"json": false}, run: cmdPower},
		{name: "sensors", usage: "sensors BMC [--json]", summary: "read a BMC's sensors", flags: flagSpec{"json": false}, run: cmdSensors},
		{name: "sel", usage: "sel list BMC [--limit N] [--json] | sel clear BMC", summary: "read or clear the system event log", flags: flagSpec{"json": false, "limit": true}, run: cmdSEL},
		{name: "audit", usage: "audit search [--user U] [--bmc B] [--action A] [--outcome O] [--code C] [--session S] [--since T] [--until T] [--limit N] [--newest] [--after SEQ|--before SEQ] [--json] | audit verify [--json] | audit replay SESSION [--speed N] | audit export SESSION --format asciicast",
			summary: "search or verify the audit log, replay or export console recordings (needs audit.read)",
			flags:   flagSpec{"json": false, "user": true, "bmc": true, "action": true, "outcome": true, "code": true, "session": true, "since": true, "until": true, "limit": true, "newest": false, "after": true, "before": true, "speed": true, "format": true},
			run:     cmdAudit},
	}
}

// execLine runs one command line and returns its exit status. The command
// and its outcome are audited.
func (s *Server) execLine(e *env, line string) int {
	if e.sess != nil {
		defer e.sess.conn.idle.enter()() // a running command is not idle
	}
	start := s.now()
	code := s.execWords(e, line)
	r := callerRecord(e.caller, audit.CodeCmdRun)
	r.Duration = s.now().Sub(start)
	r.Fields = map[string]string{"command": line, "exit": strconv.Itoa(code)}
	if e.forced {
		r.Fields["force_command"] = "true"
		r.Fields["requested"] = e.requested
	}
	r.Outcome = audit.OutcomeOK
	if code != exitOK {
		r.Outcome = audit.OutcomeError
	}
	if err := s.svc.Audit(context.WithoutCancel(e.ctx), r); err != nil {
		fmt.Fprintln(e.errw, "bmcgate: the command's record could not be written to the audit log")
		if code == exitOK {
			code = exitRefused
		}
	}
	return code
}

func (s *Server) execWords(e *env, line string) int {
	words, err := splitWords(line)
	if err != nil {
		fmt.Fprintf(e.errw, "bmcgate: %s\n", audit.DisplaySafe(err.Error()))
		return exitUsage
	}
	if len(words) == 0 {
		return exitOK
	}
	cmd, ok := s.cmds[words[0]]
	if !ok {
		fmt.Fprintf(e.errw, "bmcgate: unknown command %s; try \"help\"\n", quoted(words[0]))
		return exitUsage
	}
	p, err := parseFlags(words[1:], cmd.flags)
	if err != nil {
		fmt.Fprintf(e.errw, "bmcgate: %s: %v\nusage: %s\n", cmd.name, err, cmd.usage)
		return exitUsage
	}
	e.json = p.has("json")
	return cmd.run(e, p)
}

// fail prints a command-level error and returns its exit status.
func (e *env) fail(err error) int {
	// Messages are built from escaped parts: escape what is left without
	// escaping those parts a second time.
	fmt.Fprintf(e.errw, "bmcgate: %s\n", audit.DisplaySafe(service.Message(err)))
	if errors.Is(err, service.ErrAuditUnavailable) {
		return exitRefused
	}
	return exitFailed
}

func usage(e *env, name string) int {
	fmt.Fprintf(e.errw, "usage: %s\n", e.srv.cmds[name].usage)
	return exitUsage
}

func cmdHelp(e *env, p parsed) int {
	if len(p.args) == 1 {
		c, ok := e.srv.cmds[p.args[0]]
		if !ok {
			fmt.Fprintf(e.errw, "bmcgate: no command %s\n", quoted(p.args[0]))
			return exitUsage
		}
		fmt.Fprintf(e.out, "usage: %s\n  %s\n", c.usage, c.summary)
		return exitOK
	}
	names := make([]string, 0, len(e.srv.cmds))
	for n := range e.srv.cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(e.out, "bmcgate commands:")
	for _, n := range names {
		fmt.Fprintf(e.out, "  %-8s %s\n", n, e.srv.cmds[n].summary)
	}
	fmt.Fprintln(e.out, "\nTARGET is a BMC name, a glob (node0*), or labels (rack=r1 or rack=r1,env=prod).")
	fmt.Fprintln(e.out, "Add --json for machine-readable output. Exit status: 0 ok, 1 failed or denied, 2 usage, 3 refused.")
	return exitOK
}

func cmdWhoami(e *env, p parsed) int {
	id, err := e.srv.svc.Whoami(e.ctx, e.caller)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		return e.writeJSON(id)
	}
	fmt.Fprintf(e.out, "user:    %s\nroles:   %s\nauth:    %s\nfrom:    %s\nsession: %s\n",
		clean(id.User), clean(strings.Join(id.Roles, ", ")), clean(id.Auth), clean(id.Source), id.Session)
	if len(id.GlobalActions) > 0 {
		fmt.Fprintf(e.out, "global:  %s\n", strings.Join(id.GlobalActions, ", "))
	}
	return exitOK
}

func cmdList(e *env, p parsed) int {
	entries, err := e.srv.svc.List(e.ctx, e.caller, p.args)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		if entries == nil {
			entries = []service.ListEntry{}
		}
		return e.writeJSON(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.errw, "no BMCs visible to you")
		return exitOK
	}
	w := newTable(e.out)
	w.row("NAME", "ADDRESS", "LABELS", "ACTIONS")
	for _, x := range entries {
		w.row(x.Name, x.Address, labelString(x.Labels), strings.Join(x.Actions, ","))
	}
	w.flush()
	return exitOK
}

func cmdInfo(e *env, p parsed) int {
	if len(p.args) != 1 {
		return usage(e, "info")
	}
	res, err := e.srv.svc.Info(e.ctx, e.caller, p.args[0])
	if err != nil {
		return e.fail(err)
	}
	return e.single(res, func() { printInfo(e.out, res.Value.(service.InfoView)) })
}

func cmdSensors(e *env, p parsed) int {
	if len(p.args) != 1 {
		return usage(e, "sensors")
	}
	res, err := e.srv.svc.Sensors(e.ctx, e.caller, p.args[0])
	if err != nil {
		return e.fail(err)
	}
	return e.single(res, func() { printSensors(e.out, res.Value) })
}

func cmdSEL(e *env, p parsed) int {
	if len(p.args) != 2 {
		return usage(e, "sel")
	}
	switch p.args[0] {
	case "list":
		limit := 100
		if p.has("limit") {
			n, err := strconv.Atoi(p.get("limit"))
			if err != nil || n < 1 || n > 10000 {
				fmt.Fprintln(e.errw, "bmcgate: --limit must be a number from 1 to 10000")
				return exitUsage
			}
			limit = n
		}
		res, err := e.srv.svc.SEL(e.ctx, e.caller, p.args[1], limit)
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { printSEL(e.out, res.Value) })
	case "clear":
		res, err := e.srv.svc.ClearSEL(e.ctx, e.caller, p.args[1])
		if err != nil {
			return e.fail(err)
		}
		return e.single(res, func() { fmt.Fprintf(e.out, "%s  event log cleared\n", res.BMC) })
	}
	return usage(e, "sel")
}

func cmdPower(e *env, p parsed) int {
	if len(p.args) < 2 {
		return usage(e, "power")
	}
	sub := p.args[0]
	if _, ok := service.PowerActions[sub]; !ok {
		fmt.Fprintf(e.errw, "bmcgate: unknown power operation %s\n", quoted(sub))
		return usage(e, "power")
	}
	return e.fanOut(func(each func(service.Result)) error {
		return e.srv.svc.Power(e.ctx, e.caller, sub, p.args[1:], each)
	})
}

// fanOut runs a fan-out operation and prints its per-BMC results as they
// come (or all of them as one JSON list); the exit status says whether any
// BMC failed.
func (e *env) fanOut(run func(each func(service.Result)) error) int {
	status := exitOK
	var all []jsonResult
	err := run(func(r service.Result) {
		if !r.OK {
			status = exitFailed
		}
		if e.json {
			all = append(all, toJSON(r))
			return
		}
		printResult(e, r)
	})
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		if code := e.writeJSON(all); code != exitOK {
			return code
		}
	}
	return status
}

// single prints a one-BMC result with show, or its failure.
func (e *env) single(r service.Result, show func()) int {
	if e.json {
		code := e.writeJSON(toJSON(r))
		if !r.OK {
			return exitFailed
		}
		return code
	}
	if !r.OK {
		printResult(e, r)
		return exitFailed
	}
	show()
	return exitOK
}
