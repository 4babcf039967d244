package sshd

import (
	"fmt"
	"strings"
	"time"

	"github.com/bmcgate/bmcgate/gateway/service"
)

func credentialCommands() []*command {
	return []*command{{
		name:    "credentials",
		usage:   "credentials [--for DURATION] [--scope ACTION[,ACTION...]] [--rmcp] [TARGET...] [--json] | credentials list [--json] | credentials revoke USER",
		summary: "issue, list or revoke your automation credentials (the password is shown once)",
		flags:   flagSpec{"json": false, "for": true, "scope": true, "rmcp": false},
		run:     cmdCredentials,
	}}
}

func cmdCredentials(e *env, p parsed) int {
	if len(p.args) > 0 && (p.args[0] == "list" || p.args[0] == "revoke") {
		if p.has("for") || p.has("scope") || p.has("rmcp") {
			return usage(e, "credentials")
		}
		if p.args[0] == "list" {
			return credList(e, p)
		}
		if len(p.args) != 2 {
			return usage(e, "credentials")
		}
		v, err := e.srv.svc.RevokeCredential(e.ctx, e.caller, p.args[1])
		if err != nil {
			return e.fail(err)
		}
		if e.json {
			return e.writeJSON(v)
		}
		fmt.Fprintf(e.out, "revoked %s\n", clean(v.User))
		return exitOK
	}
	req := service.CredentialRequest{Targets: p.args, RMCP: p.has("rmcp")}
	if p.has("for") {
		d, err := time.ParseDuration(p.get("for"))
		if err != nil || d <= 0 {
			fmt.Fprintln(e.errw, "bmcgate: credentials: --for takes a positive duration such as 30m or 8h")
			return exitUsage
		}
		req.Lifetime = d
	}
	if p.has("scope") {
		for a := range strings.SplitSeq(p.get("scope"), ",") {
			if a = strings.TrimSpace(a); a != "" {
				req.Scope = append(req.Scope, a)
			}
		}
	}
	v, password, err := e.srv.svc.IssueCredential(e.ctx, e.caller, req)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		return e.writeJSON(struct {
			service.CredentialView
			Password string `json:"password"`
		}{v, password})
	}
	fmt.Fprintf(e.out, "user:     %s\npassword: %s\nexpires:  %s\n", v.User, password, v.Expires.Format(time.RFC3339))
	if len(v.Scope) > 0 {
		fmt.Fprintf(e.out, "scope:    %s\n", strings.Join(v.Scope, ", "))
	}
	if len(v.Targets) > 0 {
		fmt.Fprintf(e.out, "targets:  %s\n", clean(strings.Join(v.Targets, ", ")))
	}
	fmt.Fprintln(e.out, "The password is shown only now; it acts with your roles, narrowed as above.")
	return exitOK
}

func credList(e *env, p parsed) int {
	if len(p.args) != 1 {
		return usage(e, "credentials")
	}
	list, err := e.srv.svc.ListCredentials(e.ctx, e.caller)
	if err != nil {
		return e.fail(err)
	}
	if e.json {
		return e.writeJSON(list)
	}
	for _, v := range list {
		state := "live"
		if !v.Revoked.IsZero() {
			state = "revoked"
		} else if !v.Live {
			state = "expired"
		}
		scope := strings.Join(v.Scope, ",")
		if scope == "" {
			scope = "*"
		}
		targets := strings.Join(v.Targets, ",")
		if targets == "" {
			targets = "*"
		}
		fmt.Fprintf(e.out, "%-16s %-7s expires %s  scope %s  targets %s\n", v.User, state,
			v.Expires.Format(time.RFC3339), scope, clean(targets))
	}
	return exitOK
}
