package scan

import (
	"context"
	"fmt"
	"strings"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// probeAuthCaps reads the IPMI 1.5 capabilities per privilege level.
func (s *Scanner) probeAuthCaps(ctx context.Context, w *wire, r *Report) {
	none, password, weak := map[string]bool{}, map[string]bool{}, map[string]bool{}
	anon, null := false, false
	for _, p := range []byte{privCallback, privUser, privOperator, privAdmin} {
		c, err := authCaps(ctx, w, p)
		if err != nil {
			if !r.Reachable {
				r.problem("Get Channel Authentication Capabilities", err)
				return
			}
			continue
		}
		r.Reachable = true
		r.AuthCaps = append(r.AuthCaps, c)
		for _, t := range c.V15Types {
			switch t {
			case "none":
				none[c.Privilege] = true
			case "password":
				password[c.Privilege] = true
			case "md2", "md5":
				weak[c.Privilege] = true
			}
		}
		anon = anon || c.Anonymous
		null = null || c.NullUsers
	}
	levels := func(m map[string]bool) string {
		var out []string
		for _, c := range r.AuthCaps {
			if m[c.Privilege] {
				out = append(out, c.Privilege)
			}
		}
		return strings.Join(out, ", ")
	}
	if len(none) > 0 {
		r.add(newFinding(IDIPMI15None, "Get Channel Authentication Capabilities lists \"none\" for: %s", levels(none)))
	}
	if len(password) > 0 {
		r.add(newFinding(IDIPMI15Password, "Get Channel Authentication Capabilities lists \"straight password\" for: %s", levels(password)))
	}
	if len(weak) > 0 {
		r.add(newFinding(IDIPMI15Weak, "IPMI 1.5 MD2/MD5 authentication enabled for: %s", levels(weak)))
	}
	// The anonymous and null-user bits are claims; the RAKP probe in
	// probeLogins tests them and falls back to them only when it cannot run.
	r.capsAnon, r.capsNull = anon, null
}

// probeSuite0 asks the BMC to open a session with cipher suite 0. The
// session is never used.
func (s *Scanner) probeSuite0(ctx context.Context, w *wire, r *Report) {
	o, err := openSession(ctx, w, 0, 0)
	if err != nil {
		r.problem("Open Session (cipher suite 0)", err)
		return
	}
	if o.status != 0 {
		return
	}
	abortRAKP(ctx, w, o.bmcID) // never used: no command is sent on it
	if o.algs != [3]byte{} {
		return // the BMC answered with other algorithms: not suite 0
	}
	r.CipherSuite0 = true
	limit := ""
	if o.maxPriv != 0 {
		limit = " up to privilege " + privName(o.maxPriv)
	}
	r.add(newFinding(IDCipherSuite0, "the BMC accepted an RMCP+ Open Session Request for suite 0 (no authentication, integrity or confidentiality)%s; the session was never used", limit))
}

// loginSuite picks the cipher suite for the RAKP probes: the endpoint's,
// else 3.
func loginSuite(ep ipmi.Endpoint) int {
	if ep.CipherSuite == 17 {
		return 17
	}
	return 3
}

// probeLogins tests the null user and the default credentials offline, one
// RAKP exchange per user name.
func (s *Scanner) probeLogins(ctx context.Context, w *wire, r *Report, ep ipmi.Endpoint) {
	suite := loginSuite(ep)
	byName := map[string][]Credential{"": {{Vendor: "null user"}}}
	names := []string{""}
	for _, c := range s.opts.Credentials {
		if _, seen := byName[c.Username]; !seen {
			names = append(names, c.Username)
		}
		byName[c.Username] = append(byName[c.Username], c)
	}
	var hits []string
	for _, name := range names {
		if ctx.Err() != nil {
			return
		}
		x, err := s.exchange(ctx, w, suite, name)
		if err != nil {
			r.problem("RAKP probe", err)
			if name == "" {
				r.capsFallback()
			}
			return
		}
		if x == nil {
			continue // no such user (or not allowed this privilege)
		}
		var vendors []string
		for _, c := range byName[name] {
			if x.matches(suite, c.Password) {
				vendors = append(vendors, c.Vendor)
			}
		}
		x.forget()
		switch {
		case name == "" && len(vendors) > 0:
			r.add(newFinding(IDAnonymousLogin, "a RAKP exchange with an empty user name verified against an empty password"))
			r.add(newFinding(IDNullUser, "the BMC accepts RAKP exchanges for an empty user name"))
		case name == "":
			r.add(newFinding(IDNullUser, "the BMC accepts RAKP exchanges for an empty user name (its password is not empty)"))
		case len(vendors) > 0:
			r.DefaultUsers = append(r.DefaultUsers, name)
			hits = append(hits, fmt.Sprintf("user %q has the %s default password", name, strings.Join(vendors, "/")))
		}
	}
	if len(hits) > 0 {
		r.add(newFinding(IDDefaultCredentials, "%s (checked offline from one RAKP exchange per user name; no failed login sent)", strings.Join(hits, "; ")))
	}
}

// exchange runs Open Session and RAKP 1/2 for name at Administrator level
// and aborts the session. It returns nil when the BMC refuses the name.
func (s *Scanner) exchange(ctx context.Context, w *wire, suite int, name string) (*rakp2, error) {
	o, err := openSession(ctx, w, suite, privAdmin)
	if err != nil {
		return nil, err
	}
	if o.status != 0 {
		return nil, nil
	}
	x, err := rakp1(ctx, w, o, name, privAdmin, macLen(suite))
	abortRAKP(ctx, w, o.bmcID)
	if err != nil {
		return nil, err
	}
	if x.status == rakpInvalidRole {
		// The account exists below Administrator: ask at User level.
		if o, err = openSession(ctx, w, suite, privUser); err != nil || o.status != 0 {
			return nil, err
		}
		x, err = rakp1(ctx, w, o, name, privUser, macLen(suite))
		abortRAKP(ctx, w, o.bmcID)
		if err != nil {
			return nil, err
		}
	}
	if x.status != 0 || len(x.mac) == 0 {
		return nil, nil
	}
	return x, nil
}

// rakpInvalidRole is the RAKP status "invalid role".
const rakpInvalidRole = 0x09
