package sshd

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/bmcgate/bmcgate/audit"
	"github.com/bmcgate/bmcgate/gateway/service"
)

func cmdAudit(e *env, p parsed) int {
	if len(p.args) == 2 {
		switch p.args[0] {
		case "replay":
			return auditReplay(e, p)
		case "export":
			return auditExport(e, p)
		}
	}
	if len(p.args) != 1 {
		return usage(e, "audit")
	}
	switch p.args[0] {
	case "search":
		return auditSearch(e, p)
	case "verify":
		return auditVerify(e)
	}
	return usage(e, "audit")
}

func auditSearch(e *env, p parsed) int {
	q := audit.Query{
		Actor: p.get("user"), Target: p.get("bmc"), Action: p.get("action"),
		Outcome: p.get("outcome"), Code: p.get("code"), Session: p.get("session"),
		Newest: p.has("newest"), Limit: 100,
	}
	now := e.srv.now()
	for _, name := range []string{"since", "until"} {
		if !p.has(name) {
			continue
		}
		t, err := service.ParseTime(p.get(name), now)
		if err != nil {
			fmt.Fprintf(e.errw, "bmcgate: --%s: %s\n", name, service.Message(err))
			return exitUsage
		}
		if name == "since" {
			q.Since = t
		} else {
			q.Until = t
		}
	}
	if p.has("limit") {
		n, err := strconv.Atoi(p.get("limit"))
		if err != nil || n < 1 || n > 100000 {
			fmt.Fprintln(e.errw, "bmcgate: --limit must be a number from 1 to 100000")
			return exitUsage
		}
		q.Limit = n
	}
	for _, c := range []struct {
		name string
		v    *uint64
	}{{"after", &q.AfterSeq}, {"before", &q.BeforeSeq}} {
		if !p.has(c.name) {
			continue
		}
		n, err := strconv.ParseUint(p.get(c.name), 10, 64)
		if err != nil || n == 0 {
			fmt.Fprintf(e.errw, "bmcgate: --%s must be a record number (SEQ)\n", c.name)
			return exitUsage
		}
		*c.v = n
	}
	enc := json.NewEncoder(e.out)
	n := 0
	page, err := e.srv.svc.AuditSearchPage(e.ctx, e.caller, q, func(r audit.Record) error {
		n++
		if e.json {
			r.Data = nil // recordings are replayed, not dumped
			return enc.Encode(r)
		}
		_, err := fmt.Fprintln(e.out, audit.FormatText(r))
		return err
	})
	if err != nil {
		return e.fail(err)
	}
	if !e.json && n == 0 {
		fmt.Fprintln(e.errw, "no matching records")
	}
	if hint := service.MoreHint(q, page); hint != "" {
		fmt.Fprintln(e.errw, hint)
	}
	return exitOK
}

func auditVerify(e *env) int {
	rep, err := e.srv.svc.AuditVerify(e.ctx, e.caller)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		if code := e.writeJSON(rep); code != exitOK {
			return code
		}
	} else if rep.OK {
		fmt.Fprintf(e.out, "audit log OK: %d records, head #%d %s\n", rep.Records, rep.HeadSeq, rep.HeadHash)
	} else {
		fmt.Fprintf(e.out, "audit log BROKEN at record #%d: %s\n", rep.FirstBad, rep.Problem)
	}
	if !rep.OK {
		return exitFailed
	}
	return exitOK
}
