package configs

// users checks user names, keys and roles, and notes whether anyone can
// log in over SSH (loginWays checks that someone can log in somewhere).
func (v *validator) users(roles map[string]bool) {
	first := map[string]string{}
	keyOwner := map[string]string{} // marshaled key -> field that lists it
	canLogIn := false
	for i := range v.c.Users {
		u := &v.c.Users[i]
		field := indexPath("users", i)
		v.entryName(first, field, u.Name, "user name", "user")
		for j, text := range u.SSHKeys {
			kf := indexPath(fieldPath(field, "ssh_keys"), j)
			k, msg := parseUserKey(text)
			if msg != "" {
				v.probs.add(kf, "%s", msg)
				continue
			}
			id := string(k.Marshal())
			if other, dup := keyOwner[id]; dup {
				v.probs.add(kf, "same key as %s: a key must identify one user", other)
				continue
			}
			keyOwner[id] = kf
			u.keys = append(u.keys, k)
		}
		if !u.Disabled && (len(u.keys) > 0 || len(v.c.SSH.caKeys) > 0) {
			canLogIn = true
		}
		v.roleList(fieldPath(field, "roles"), u.Roles, roles)
	}
	if len(v.c.SSH.caKeys) > 0 && !v.anyEnabledUser() {
		// A certificate logs in as the listed user its principal names,
		// with that user's roles: with nobody listed, the CA admits no one.
		v.probs.add("ssh.user_ca_keys", "no enabled user is listed, so no certificate can log in: "+
			"a certificate's principal must be a user under users (ssh_keys may stay empty), which gives the roles")
	}
	v.c.sshLogin = canLogIn
}

// anyEnabledUser reports whether users lists someone not disabled.
func (v *validator) anyEnabledUser() bool {
	for _, u := range v.c.Users {
		if !u.Disabled {
			return true
		}
	}
	return false
}

// loginWays checks that someone can log in at all: over SSH (a user with a
// key, or a user CA and an enabled user its certificates can name) or at
// the web door (single sign-on or an enabled break-glass account). A
// web-only deployment is valid; its SSH door stays closed (SSHLogin).
func (v *validator) loginWays() {
	if v.c.SSH.IssueCertificates {
		v.c.sshLogin = true // single sign-on users log in with the gateway's certificates
		if v.c.Listen.HTTPS == "" || v.c.Web.OIDC.Issuer == "" {
			v.probs.add("ssh.issue_certificates", "needs the web door with single sign-on (listen.https and web.oidc): certificates are issued to its users")
		}
	}
	if v.c.sshLogin || v.c.Listen.HTTPS != "" && (v.c.Web.OIDC.Issuer != "" || v.webBreakGlass) {
		return
	}
	if len(v.c.SSH.caKeys) > 0 && !v.anyEnabledUser() {
		return // users names no one for the CA: reported at ssh.user_ca_keys
	}
	v.probs.add("users", "no way to log in: give at least one enabled user an ssh_keys entry (or set ssh.user_ca_keys and list the users it may sign for), or open the web door (listen.https) with web.oidc or an enabled web.break_glass account")
}

// SSHLogin reports whether anyone can log in over SSH: an enabled user
// with a key, user CA keys and an enabled user their certificates can
// name, or the gateway's own certificates (ssh.issue_certificates). The
// gateway opens its SSH door only then.
func (c *Config) SSHLogin() bool { return c.sshLogin }
