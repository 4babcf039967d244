package scan

import (
	"fmt"
	"slices"
	"strings"
)

// Results of the RAKP probe for the empty user name (Report.NullUserLogin).
const (
	NullUserUntested      = ""               // the probe could not run
	NullUserRefused       = "refused"        // the BMC refused the empty name at every level tried
	NullUserEmptyPassword = "empty-password" // accepted, and the empty password verified
	NullUserPassword      = "password"       // accepted, with a password that is not empty
	NullUserNoAuth        = "no-auth"        // accepted under cipher suite 0, which checks no password
)

// DefaultCredential is an account found with a vendor default password
// (never the password itself).
type DefaultCredential struct {
	User    string   `json:"user"`
	Vendors []string `json:"vendors"`
}

// derive sets the report's IPMI findings from its probe data, in one place,
// so that a finding appears exactly when the evidence gathered supports it.
// Probes only gather evidence; web findings come from ProbeWeb.
func (r *Report) derive() {
	r.Findings = r.Findings[:0]
	r.authCapsFindings()
	if r.CipherSuite0 {
		limit := ""
		if r.Suite0MaxPriv != "" {
			limit = " up to privilege " + r.Suite0MaxPriv
		}
		r.add(newFinding(IDCipherSuite0, "the BMC accepted an RMCP+ Open Session Request for suite 0 (no authentication, integrity or confidentiality)%s; the session was never used", limit))
	}
	r.loginFindings()
	r.suiteFindings()
	r.userFindings()
	if r.SOL != nil && *r.SOL {
		r.add(newFinding(IDSOLEnabled, "SOL Enable parameter is set on channel %d", r.Channel))
	}
	if len(r.Alerts) > 0 {
		r.add(newFinding(IDLANAlerts, "alert destinations: %s", strings.Join(r.Alerts, ", ")))
	}
	if r.Reachable {
		r.add(rakpDisclosure(r))
	}
}

// authCapsFindings reports the IPMI 1.5 authentication types enabled per
// privilege level.
func (r *Report) authCapsFindings() {
	levels := func(types ...string) string {
		var out []string
		for _, c := range r.AuthCaps {
			for _, t := range c.V15Types {
				if slices.Contains(types, t) {
					out = append(out, c.Privilege)
					break
				}
			}
		}
		return strings.Join(out, ", ")
	}
	if l := levels("none"); l != "" {
		r.add(newFinding(IDIPMI15None, "Get Channel Authentication Capabilities lists \"none\" for: %s", l))
	}
	if l := levels("password"); l != "" {
		r.add(newFinding(IDIPMI15Password, "Get Channel Authentication Capabilities lists \"straight password\" for: %s", l))
	}
	if l := levels("md2", "md5"); l != "" {
		r.add(newFinding(IDIPMI15Weak, "IPMI 1.5 MD2/MD5 authentication enabled for: %s", l))
	}
}

// loginFindings reports the null user and default passwords. The RAKP probe
// is the evidence; the capability bits of Get Channel Authentication
// Capabilities count where it did not run, and for IPMI 1.5, which it
// does not test.
func (r *Report) loginFindings() {
	var claimAnon, claimNull, v15 bool
	for _, c := range r.AuthCaps {
		claimAnon = claimAnon || c.Anonymous
		claimNull = claimNull || c.NullUsers
		v15 = v15 || c.V15
	}
	claim := func(id, what string) {
		why := "not confirmed: the RAKP probe could not run"
		if r.NullUserLogin != NullUserUntested {
			why = "for IPMI 1.5; the IPMI 2.0 RAKP probe was refused"
		}
		r.add(newFinding(id, "Get Channel Authentication Capabilities reports %s enabled (%s)", what, why))
	}
	switch r.NullUserLogin {
	case NullUserEmptyPassword:
		r.add(newFinding(IDAnonymousLogin, "a RAKP exchange with an empty user name verified against an empty password"))
		r.add(newFinding(IDNullUser, "the BMC accepts RAKP exchanges for an empty user name"))
	case NullUserNoAuth:
		r.add(newFinding(IDAnonymousLogin, "the BMC accepts an empty user name under cipher suite 0, which checks no password"))
		r.add(newFinding(IDNullUser, "the BMC accepts RAKP exchanges for an empty user name"))
	case NullUserPassword:
		r.add(newFinding(IDNullUser, "the BMC accepts RAKP exchanges for an empty user name (its password is not empty)"))
	case NullUserUntested, NullUserRefused:
		if r.NullUserLogin == NullUserUntested || v15 {
			if claimAnon {
				claim(IDAnonymousLogin, "anonymous login")
			}
			if claimNull {
				claim(IDNullUser, "null user names")
			}
		}
	}
	if len(r.DefaultCreds) > 0 {
		var hits []string
		for _, d := range r.DefaultCreds {
			hits = append(hits, fmt.Sprintf("user %q has the %s default password", d.User, strings.Join(d.Vendors, "/")))
		}
		r.add(newFinding(IDDefaultCredentials, "%s (checked offline from one RAKP exchange per user name; no failed login sent)", strings.Join(hits, "; ")))
	}
}

// suiteFindings reports weak suites the BMC lists. Suite 0 counts as
// offered only when the Open Session probe did not show it refused: the
// probe is the stronger evidence.
func (r *Report) suiteFindings() {
	var weak []string
	refused0 := false
	for _, su := range r.CipherSuites {
		w := su.Weaknesses()
		if len(w) == 0 {
			continue
		}
		if su.ID == 0 && r.Suite0Probed && !r.CipherSuite0 {
			refused0 = true
			continue
		}
		weak = append(weak, fmt.Sprintf("suite %d (%s)", su.ID, strings.Join(w, ", ")))
	}
	if len(weak) == 0 {
		return
	}
	ev := "offered: " + strings.Join(weak, "; ")
	if refused0 {
		ev += " (suite 0 is listed but refused an Open Session Request)"
	}
	r.add(newFinding(IDWeakCipherSuites, "%s", ev))
}

// userFindings reports administrator accounts.
func (r *Report) userFindings() {
	var admins []string
	for _, u := range r.Users {
		if u.Privilege != "administrator" {
			continue
		}
		if r.Account != "" && u.Name == r.Account {
			r.add(newFinding(IDGatewayAdmin, "user %d %q (the gateway's) has Administrator on channel %d", u.ID, u.Name, r.Channel))
			continue
		}
		name := u.Name
		if u.ID == 1 {
			name = "(null user)"
		}
		admins = append(admins, fmt.Sprintf("%d %q", u.ID, name))
	}
	if len(admins) > 0 {
		r.add(newFinding(IDExtraAdmins, "Administrator on channel %d: %s", r.Channel, strings.Join(admins, ", ")))
	}
}

// rakpDisclosure is the RAKP hash disclosure note: an accepted risk (info)
// unless an account's password is known or empty, when the disclosed hash
// is as good as the password (high).
func rakpDisclosure(r *Report) Finding {
	if r.Has(IDDefaultCredentials) || r.Has(IDAnonymousLogin) {
		f := newFinding(IDRAKPDisclosure, "RMCP+ is enabled and an account has a known or empty password: its disclosed hash is cracked at once")
		f.Severity = High
		return f
	}
	return newFinding(IDRAKPDisclosure, "RMCP+ is enabled; any valid user name yields a salted hash to attack offline (accept only if the BMC is reachable from the gateway alone and its passwords are long, random and unique)")
}
