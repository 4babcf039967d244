package scan

import (
	"context"
	"errors"
	"fmt"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// probeAuthCaps reads the IPMI 1.5 capabilities per privilege level.
func (s *Scanner) probeAuthCaps(ctx context.Context, w *wire, r *Report) {
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
	}
}

// probeSuite0 asks the BMC to open a session with cipher suite 0. The
// session is never used.
func (s *Scanner) probeSuite0(ctx context.Context, w *wire, r *Report) {
	o, err := openSession(ctx, w, 0, 0)
	if err != nil {
		r.problem("Open Session (cipher suite 0)", err)
		return
	}
	r.Suite0Probed = true
	if o.status != 0 {
		return
	}
	abortRAKP(ctx, w, o.bmcID) // never used: no command is sent on it
	if o.algs != [3]byte{} {
		return // the BMC answered with other algorithms: not suite 0
	}
	r.CipherSuite0 = true
	if o.maxPriv != 0 {
		r.Suite0MaxPriv = privName(o.maxPriv)
	}
}

// loginSuite picks the cipher suite for the RAKP probes: the endpoint's,
// else 3.
func loginSuite(ep ipmi.Endpoint) int {
	if ep.CipherSuite == 17 {
		return 17
	}
	return 3
}

// errSuiteRefused means the BMC refused the probe's cipher suite.
var errSuiteRefused = errors.New("the BMC refused the cipher suite")

// probeLogins tests the null user and the default credentials offline, one
// RAKP exchange per user name. When the BMC refuses the login suite but
// accepted suite 0, the null user is probed under suite 0 (which checks no
// password); default passwords cannot be checked there.
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
	r.LoginSuite = suite
	for _, name := range names {
		if ctx.Err() != nil {
			return
		}
		x, err := s.exchange(ctx, w, suite, name)
		if errors.Is(err, errSuiteRefused) {
			r.Problems = append(r.Problems, fmt.Sprintf("RAKP probe: the BMC refused cipher suite %d, so default passwords were not tested", suite))
			if name != "" || !r.CipherSuite0 {
				return
			}
			r.LoginSuite = 0
			if x, err = s.exchange(ctx, w, 0, ""); err == nil {
				r.NullUserLogin = NullUserRefused
				if x != nil {
					r.NullUserLogin = NullUserNoAuth
				}
			}
			if err != nil {
				r.problem("RAKP probe (cipher suite 0)", err)
			}
			return
		}
		if err != nil {
			r.problem("RAKP probe", err)
			return
		}
		if x == nil {
			if name == "" {
				r.NullUserLogin = NullUserRefused
			}
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
			r.NullUserLogin = NullUserEmptyPassword
		case name == "":
			r.NullUserLogin = NullUserPassword
		case len(vendors) > 0:
			r.DefaultUsers = append(r.DefaultUsers, name)
			r.DefaultCreds = append(r.DefaultCreds, DefaultCredential{User: name, Vendors: vendors})
		}
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
		if isSuiteStatus(o.status) {
			return nil, errSuiteRefused
		}
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
	if x.status != 0 || (suite != 0 && len(x.mac) == 0) {
		return nil, nil
	}
	return x, nil
}

// isSuiteStatus reports whether an RMCP+ status code refuses the proposed
// algorithms (IPMI 2.0 table 13-15: invalid or unsupported algorithms, no
// matching cipher suite).
func isSuiteStatus(status byte) bool {
	switch status {
	case 0x04, 0x05, 0x06, 0x07, 0x10, 0x11:
		return true
	}
	return false
}

// rakpInvalidRole is the RAKP status "invalid role".
const rakpInvalidRole = 0x09
