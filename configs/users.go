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
	if !canLogIn {
		v.probs.add("users", "no way to authenticate: give at least one enabled user an ssh_keys entry, or set ssh.user_ca_keys")
	}
}
