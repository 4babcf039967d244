// Package assemble turns a checked config into the running gateway's parts:
// the policy, the inventory and limits (the service layer's State), the
// account directory, the SSH door's directory and settings, the IPMI and
// scan broker options, the console hub's settings, the BMC web-UI brokers
// and the audit log. It holds no running state: package gateway calls it at
// start and on every reload, and the offline tools call it too.
package assemble

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/configs"
	"github.com/bmcgate/bmcgate/gateway/service"
	"github.com/bmcgate/bmcgate/gateway/sshd"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
	"github.com/bmcgate/bmcgate/proxy/bmctls"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
	gossh "golang.org/x/crypto/ssh"
)

// LoadConfig loads and fully checks a config file: the loader's own checks
// plus the policy checks that need authz. Every problem is reported at once.
func LoadConfig(path string, skipSecrets bool) (*configs.Config, error) {
	checks := []configs.Check{checkPolicy}
	if !skipSecrets {
		checks = append(checks, checkRevokedKeys)
	}
	return configs.Load(path, configs.LoadOptions{SkipSecrets: skipSecrets, Checks: checks})
}

// checkRevokedKeys reads the revoked-keys file, so that a file the SSH door
// could not use (and would refuse every key for) is reported at start and
// by config check. --skip-secrets, for a check away from the gateway's
// files, skips it.
func checkRevokedKeys(c *configs.Config, report func(field, msg string)) {
	if c.SSH.RevokedKeys == "" {
		return
	}
	if _, err := sshd.LoadRevokedKeys(c.SSH.RevokedKeys); err != nil {
		report("ssh.revoked_keys", err.Error())
	}
}

// checkPolicy is the config check that builds the policy with authz and
// reports each problem at its field.
func checkPolicy(c *configs.Config, report func(field, msg string)) {
	_, _ = Policy(c, report)
}

// Policy turns the config's roles into an authz policy.
func Policy(c *configs.Config, report func(field, msg string)) (*authz.Policy, bool) {
	ok := true
	bad := func(field, msg string) {
		ok = false
		report(field, msg)
	}
	var roles []authz.Role
	for i, rc := range c.Roles {
		role := authz.Role{Name: rc.Name, Description: rc.Description}
		add := func(kind string, effect authz.Effect, rules []configs.Rule) {
			for j, r := range rules {
				where := fmt.Sprintf("roles[%d].%s[%d]", i, kind, j)
				rule := authz.Rule{Effect: effect, Where: fmt.Sprintf("role %s %s[%d]", rc.Name, kind, j+1)}
				if len(r.Actions) == 0 {
					bad(where+".actions", "a rule needs at least one action")
				}
				for k, a := range r.Actions {
					p, err := authz.ParseActionPattern(a)
					if err != nil {
						bad(fmt.Sprintf("%s.actions[%d]", where, k), err.Error())
						continue
					}
					rule.Actions = append(rule.Actions, p)
				}
				for k, b := range r.BMCs {
					s, err := authz.ParseSelector(b)
					if err != nil {
						bad(fmt.Sprintf("%s.bmcs[%d]", where, k), err.Error())
						continue
					}
					rule.BMCs = append(rule.BMCs, s)
				}
				role.Rules = append(role.Rules, rule)
			}
		}
		add("allow", authz.Allow, rc.Allow)
		add("deny", authz.Deny, rc.Deny)
		roles = append(roles, role)
	}
	p, err := authz.NewPolicy(roles)
	if err != nil {
		bad("roles", err.Error())
		return nil, false
	}
	return p, ok
}

// State builds the policy, inventory and limits from a loaded config.
func State(c *configs.Config) (*service.State, error) {
	var problems []string
	policy, ok := Policy(c, func(field, msg string) { problems = append(problems, field+": "+msg) })
	if !ok {
		return nil, fmt.Errorf("policy: %v", problems)
	}
	var bmcs []*service.BMC
	for _, b := range c.BMCs {
		host, portStr, err := net.SplitHostPort(b.Address)
		if err != nil {
			return nil, fmt.Errorf("bmc %s: address: %w", b.Name, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("bmc %s: port: %w", b.Name, err)
		}
		cb := &service.BMC{
			Name: b.Name, Address: b.Address, Labels: b.Labels, WebURL: b.WebUI.URL,
			Protocol: b.Protocol,
		}
		if b.HasIPMI() {
			cb.Endpoint = ipmi.Endpoint{
				Name: b.Name, Host: host, Port: port,
				Username:    b.IPMI.Username,
				Password:    b.Password().Reveal(),
				CipherSuite: b.IPMI.CipherSuite,
				Privilege:   privilege(b.IPMI.Privilege),
			}
		} else {
			// Never reached over IPMI: an endpoint the broker refuses.
			cb.Endpoint = ipmi.Endpoint{Name: b.Name, Host: host, Port: port}
		}
		if b.Redfish.Enabled() {
			cb.Redfish = redfishEndpoint(b)
		}
		switch b.Console.Via {
		case configs.ConsoleViaSSH:
			t, err := SSHConsoleTarget(c, b, host)
			if err != nil {
				return nil, fmt.Errorf("bmc %s: console: %w", b.Name, err)
			}
			cb.SSHConsole = &t
		case configs.ConsoleViaNone:
			cb.NoConsole = true
		}
		bmcs = append(bmcs, cb)
	}
	inv, err := service.NewInventory(bmcs)
	if err != nil {
		return nil, err
	}
	l := c.Limits
	return &service.State{Policy: policy, Inventory: inv, Accounts: Accounts(c), CertsOn: c.SSH.IssueCertificates, Limits: service.Limits{
		FanoutConcurrency: l.FanoutConcurrency,
		MaxTargets:        l.MaxTargets,
		CommandTimeout:    l.CommandTimeout.Duration,
	}}, nil
}

// Accounts builds the directory the service layer resolves every caller with:
// users[], web.break_glass[], web.oidc.group_roles and web.oidc.user_roles.
func Accounts(c *configs.Config) *service.Accounts {
	users := make([]service.Account, len(c.Users))
	for i, u := range c.Users {
		users[i] = service.Account{Name: u.Name, Roles: u.Roles, Disabled: u.Disabled}
	}
	bg := make([]service.Account, len(c.Web.BreakGlass))
	for i, u := range c.Web.BreakGlass {
		bg[i] = service.Account{Name: u.Name, Roles: u.Roles, Disabled: u.Disabled}
	}
	return service.NewAccounts(users, bg, c.Web.OIDC.GroupRoles).WithUserRoles(c.Web.OIDC.UserRoles)
}

func privilege(s string) ipmi.Privilege {
	switch s {
	case "user":
		return ipmi.PrivUser
	case "administrator":
		return ipmi.PrivAdministrator
	}
	return ipmi.PrivOperator
}

// Directory builds the SSH door's user directory.
func Directory(c *configs.Config) (*sshd.Directory, error) {
	var users []sshd.User
	for _, u := range c.Users {
		su := sshd.User{Name: u.Name, Disabled: u.Disabled}
		for _, k := range u.SSHKeys {
			pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(k))
			if err != nil {
				return nil, fmt.Errorf("user %s: ssh key: %w", u.Name, err)
			}
			su.Keys = append(su.Keys, pk)
		}
		users = append(users, su)
	}
	var cas []gossh.PublicKey
	for _, k := range c.SSH.UserCAKeys {
		pk, _, _, _, err := gossh.ParseAuthorizedKey([]byte(k))
		if err != nil {
			return nil, fmt.Errorf("ssh user CA key: %w", err)
		}
		cas = append(cas, pk)
	}
	d := sshd.NewDirectory(users, cas)
	if c.SSH.RevokedKeys != "" {
		d = d.WithRevokedKeys(c.SSH.RevokedKeys)
	}
	return d, nil
}

// SSHConsoleTarget is the BMC's SSH console service: its profile (built
// in or from console_profiles), the pinned host key, and the BMC's Redfish
// account (the IPMI one when it has none).
func SSHConsoleTarget(c *configs.Config, b configs.BMC, host string) (bmcssh.Target, error) {
	prof, ok := bmcssh.Builtin(b.Console.Profile)
	if !ok {
		for _, p := range c.ConsoleProfiles {
			if p.Name == b.Console.Profile {
				prof = consoleProfile(p)
				ok = true
			}
		}
	}
	if !ok {
		return bmcssh.Target{}, fmt.Errorf("unknown profile %q", b.Console.Profile)
	}
	if err := prof.Validate(); err != nil {
		return bmcssh.Target{}, fmt.Errorf("profile %s: %w", prof.Name, err)
	}
	t := bmcssh.Target{Name: b.Name, Addr: host, Profile: prof}
	if b.Console.Port != 0 {
		t.Addr = net.JoinHostPort(host, strconv.Itoa(b.Console.Port))
	} else if prof.Port != 0 {
		t.Addr = net.JoinHostPort(host, strconv.Itoa(prof.Port))
	}
	if k := b.Console.PinnedHostKey(); k != nil {
		hk, err := bmcssh.NewHostKey(k)
		if err != nil {
			return bmcssh.Target{}, err
		}
		t.HostKey = hk
	}
	if b.Redfish.Enabled() {
		t.User, t.Password = b.Redfish.Username, bmcssh.Secret(b.RedfishPassword().Reveal())
	} else {
		t.User, t.Password = b.IPMI.Username, bmcssh.Secret(b.Password().Reveal())
	}
	return t, nil
}

// consoleProfile converts an operator-defined console profile.
func consoleProfile(p configs.ConsoleProfile) bmcssh.Profile {
	out := bmcssh.Profile{Name: p.Name, Port: p.Port, Command: p.Command, Busy: p.Busy, Ended: p.Ended, Detach: p.Detach}
	for _, s := range p.Steps {
		out.Steps = append(out.Steps, bmcssh.Step{Send: s.Send, Expect: s.Expect, Timeout: s.Timeout.Duration})
	}
	return out
}

// redfishEndpoint is a BMC's Redfish service as the Redfish broker takes it.
func redfishEndpoint(b configs.BMC) redfish.Endpoint {
	r := b.Redfish
	return redfish.Endpoint{
		Name: b.Name, URL: r.URL,
		TLS: bmctls.Verify{
			PinSHA256:                   r.TLS.PinSHA256,
			Roots:                       r.CAPool(),
			ServerName:                  r.TLS.ServerName,
			InsecureSkipVerifyDangerous: r.TLS.InsecureSkipVerifyDangerous,
		},
		Username: r.Username, Password: b.RedfishPassword().Reveal(),
		SystemID: r.SystemID, ManagerID: r.ManagerID, ChassisID: r.ChassisID,
	}
}

// RedfishOptions are the Redfish broker's limits (the IPMI ones where
// they mean the same), logging to log.
func RedfishOptions(c *configs.Config, log *slog.Logger) redfish.Options {
	l := c.Limits
	return redfish.Options{
		MaxConcurrent:  l.IPMISessionsPerBMC,
		ConnectTimeout: l.IPMIConnectTimeout.Duration,
		OpTimeout:      l.CommandTimeout.Duration,
		Logger:         log,
	}
}

// IPMIOptions are the IPMI broker's options (also the scanner's and the
// console lines') from the config, logging to log.
func IPMIOptions(c *configs.Config, log *slog.Logger) ipmi.Options {
	l := c.Limits
	return ipmi.Options{
		SessionsPerBMC: l.IPMISessionsPerBMC,
		CallTimeout:    l.IPMICallTimeout.Duration,
		ConnectTimeout: l.IPMIConnectTimeout.Duration,
		KeepAlive:      l.IPMIKeepAlive.Duration,
		Logger:         log,
	}
}

// SSHConfig is the SSH door's configuration, without its host key, logger
// and console door (the gateway sets those).
func SSHConfig(c *configs.Config) sshd.Config {
	l := c.Limits
	return sshd.Config{
		Banner:                c.SSH.Banner,
		HandshakeTimeout:      l.HandshakeTimeout.Duration,
		IdleTimeout:           l.IdleTimeout.Duration,
		MaxSessionDuration:    l.MaxSessionDuration.Duration,
		MaxConnections:        l.MaxConnections,
		MaxConnectionsPerUser: l.MaxConnectionsPerUser,
		MaxStartups:           l.Startups(),
		MaxPreAuthPerSource:   l.MaxPreAuthPerSource,
		MaxRefusedRequests:    l.MaxRefusedRequests,
		RefusalAuditInterval:  l.RefusalAuditInterval.Duration,
		Algorithms:            c.SSH.Algorithms(),
	}
}
