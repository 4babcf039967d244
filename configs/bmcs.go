package configs

import "fmt"

// IPMI limits on credentials (IPMI 2.0 specification, Set User Name and Set
// User Password commands).
const (
	maxIPMIUsername = 16
	maxIPMIPassword = 20
)

// bmcs checks BMC names, addresses, labels and IPMI settings, and resolves
// passwords unless SkipSecrets is set.
func (v *validator) bmcs() {
	first := map[string]string{}
	for i := range v.c.BMCs {
		b := &v.c.BMCs[i]
		field := indexPath("bmcs", i)
		v.entryName(first, field, b.Name, "BMC name", "BMC")
		if addr, err := normalizeBMCAddress(b.Address); err != nil {
			v.probs.add(fieldPath(field, "address"), "%v", err)
		} else {
			b.Address = addr
		}
		for k, val := range b.Labels {
			lf := keyPath(fieldPath(field, "labels"), k)
			if err := checkName(k, "label key", true); err != nil {
				v.probs.add(lf, "%v", err)
			}
			if err := checkName(val, "label value", false); err != nil {
				v.probs.add(lf, "%v", err)
			}
		}
		v.protocol(field, b)
		if b.hasIPMI {
			v.ipmi(fieldPath(field, "ipmi"), b)
		}
		v.bmcWeb(fieldPath(field, "web"), b)
		v.redfish(fieldPath(field, "redfish"), b)
		v.bmcConsole(fieldPath(field, "console"), b)
	}
}

// ipmi checks one BMC's IPMI settings and fills in defaults.
func (v *validator) ipmi(field string, b *BMC) {
	p := &b.IPMI
	switch {
	case p.Username == "":
		v.probs.add(fieldPath(field, "username"), "required (anonymous IPMI login is not supported)")
	case len(p.Username) > maxIPMIUsername:
		v.probs.add(fieldPath(field, "username"), "longer than %d bytes, the IPMI limit", maxIPMIUsername)
	}

	csField := fieldPath(field, "cipher_suite")
	switch {
	case p.CipherSuite == 0 && !v.present(csField):
		p.CipherSuite = CipherSuite3
	case p.CipherSuite == 0:
		v.probs.add(csField, "cipher suite 0 means no authentication and no encryption: use 3 or 17")
	case p.CipherSuite != CipherSuite3 && p.CipherSuite != CipherSuite17:
		v.probs.add(csField, "unsupported cipher suite %d: use 3 (HMAC-SHA1 and AES-128, supported nearly everywhere) or 17 (HMAC-SHA256 and AES-128)", p.CipherSuite)
	}

	switch p.Privilege {
	case "":
		if v.present(fieldPath(field, "privilege")) {
			v.probs.add(fieldPath(field, "privilege"), "must not be empty: use user, operator or administrator")
		}
		p.Privilege = PrivilegeOperator
	case PrivilegeUser, PrivilegeOperator, PrivilegeAdministrator:
	default:
		// The value is not quoted: nothing from the ipmi block is.
		v.probs.add(fieldPath(field, "privilege"), "unknown privilege: use user, operator or administrator")
	}

	p.PasswordFile, b.password = v.passwordSource(field, passwordFields{p.PasswordFile, p.PasswordEnv, p.Password}, maxIPMIPassword, "the IPMI 2.0 limit")
}

// passwordFields are the three password sources of a section.
type passwordFields struct {
	file, env string
	inline    Secret
}

// passwordSource checks that exactly one password source of the section
// at field is set, and resolves it unless SkipSecrets is set. It returns
// the resolved password file path (or "") and the password (zero when not
// read). Passwords longer than limit bytes (limitWhy says whose limit) are
// refused.
func (v *validator) passwordSource(field string, p passwordFields, limit int, limitWhy string) (string, Secret) {
	inline := !p.inline.IsZero() || v.present(fieldPath(field, "password"))
	var set []string
	if p.file != "" {
		set = append(set, "password_file")
	}
	if p.env != "" {
		set = append(set, "password_env")
	}
	if inline {
		set = append(set, "password")
	}
	switch len(set) {
	case 0:
		v.probs.add(field, "no password: set one of password_file, password_env or password")
		return p.file, Secret{}
	case 1:
	default:
		v.probs.add(fieldPath(field, set[1]), "set only one of password_file, password_env and password (found %s)", joinAnd(set))
		return p.file, Secret{}
	}

	get := func(f string, read func() (string, error)) Secret {
		return v.readPassword(f, limit, limitWhy, read)
	}
	switch set[0] {
	case "password_file":
		path := v.resolve(p.file)
		if v.opts.SkipSecrets {
			return path, Secret{}
		}
		return path, get(fieldPath(field, "password_file"), func() (string, error) { return readPasswordFile(path) })
	case "password_env":
		f := fieldPath(field, "password_env")
		if !validEnvName(p.env) {
			v.probs.add(f, "not a valid environment variable name (letters, digits and '_', not starting with a digit)")
			return "", Secret{}
		}
		if v.opts.SkipSecrets {
			return "", Secret{}
		}
		return "", get(f, func() (string, error) { return readPasswordEnv(p.env) })
	default:
		f := fieldPath(field, "password")
		if !v.c.Secrets.AllowInlinePasswords {
			v.probs.add(f, "inline passwords are refused unless secrets.allow_inline_passwords is true: use password_file or password_env")
			return "", Secret{}
		}
		return "", get(f, func() (string, error) { return p.inline.Reveal(), nil })
	}
}

// readPassword reads a password with get, or reports why it cannot.
// Messages never contain the password.
func (v *validator) readPassword(field string, limit int, limitWhy string, get func() (string, error)) Secret {
	pw, err := get()
	switch {
	case err != nil:
		v.probs.add(field, "%v", err)
	case pw == "":
		v.probs.add(field, "the password is empty")
	case len(pw) > limit:
		v.probs.add(field, "the password is longer than %d bytes, %s", limit, limitWhy)
	default:
		return NewSecret(pw)
	}
	return Secret{}
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	s := words[0]
	for _, w := range words[1 : len(words)-1] {
		s += ", " + w
	}
	return fmt.Sprintf("%s and %s", s, words[len(words)-1])
}
