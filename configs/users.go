package configs

// users checks user names, keys and roles, and that someone can log in.
func (v *validator) users(roles map[string]bool) {
	first := map[string]string{}
	keyOwner := map[string]string{} // marshaled key -> field that lists it
	canLogIn := len(v.c.SSH.caKeys) > 0
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
		if !u.Disabled && len(u.keys) > 0 {
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
	if !canLogIn {
		v.probs.add("users", "no way to authenticate: give at least one enabled user an ssh_keys entry, or set ssh.user_ca_keys")
	}
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
