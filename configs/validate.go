package configs

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/bmcgate/bmcgate/internal/datadir"
)

// Defaults for fields the file may leave out.
const (
	DefaultSSHListen   = "127.0.0.1:2222"
	DefaultHostKeyName = datadir.HostKey
	DefaultIPMIPort    = "623"
	maxBannerLen       = 4096
	maxDescriptionLen  = 1024
)

// validator fills in defaults and checks a decoded config, reporting every
// problem to probs.
type validator struct {
	c     *Config
	dir   string // absolute directory of the config file
	opts  LoadOptions
	probs *collector

	webBreakGlass bool // an enabled web.break_glass account is configured (web)
}

// run performs every check in file order.
func (v *validator) run() {
	v.version()
	v.listen()
	v.dataDir()
	v.ssh()
	v.limits()
	roles := v.roles()
	v.users(roles)
	v.webProfiles()
	v.consoleProfiles()
	v.bmcDefaults()
	v.bmcs()
	v.console()
	v.web()
	v.images()
	v.loginWays()
	v.scan()
	v.audit()
}

// present reports whether field is written in the file.
func (v *validator) present(field string) bool {
	return v.c.pos.has(field)
}

// resolve makes a path from the file absolute, relative to the config's
// directory.
func (v *validator) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(v.dir, p)
}

func (v *validator) version() {
	switch {
	case !v.present("version"):
		v.probs.add("version", "required: start the file with \"version: 1\"")
	case v.c.Version != 1:
		v.probs.add("version", "unsupported version %d: this bmcgate reads version 1", v.c.Version)
	}
}

func (v *validator) listen() {
	l := &v.c.Listen
	if l.SSH == "" {
		if v.present("listen.ssh") {
			v.probs.add("listen.ssh", "must not be empty (leave it out for the default %s)", DefaultSSHListen)
		}
		l.SSH = DefaultSSHListen
	}
	if err := checkListenAddr(l.SSH); err != nil {
		v.probs.add("listen.ssh", "%v", err)
	}
	if l.HTTPS != "" {
		if err := checkListenAddr(l.HTTPS); err != nil {
			v.probs.add("listen.https", "%v", err)
		}
		if l.HTTPS == l.SSH {
			v.probs.add("listen.https", "same address as listen.ssh")
		}
	}
}

func (v *validator) dataDir() {
	if v.c.DataDir == "" {
		v.probs.add("data_dir", "required: the directory for the audit log and host key")
		return
	}
	v.c.DataDir = v.resolve(v.c.DataDir)
}

// DefaultCertMaxLifetime is the longest validity of a certificate from the
// gateway's own user CA (ssh.cert_max_lifetime).
const DefaultCertMaxLifetime = 8 * time.Hour

func (v *validator) ssh() {
	s := &v.c.SSH
	switch {
	case s.HostKeyFile != "":
		s.HostKeyFile = v.resolve(s.HostKeyFile)
	case v.c.DataDir != "":
		s.HostKeyFile = filepath.Join(v.c.DataDir, DefaultHostKeyName)
	}
	if s.RevokedKeys != "" {
		s.RevokedKeys = v.resolve(s.RevokedKeys)
	} else if v.present("ssh.revoked_keys") {
		v.probs.add("ssh.revoked_keys", "must not be empty: leave it out when no key is revoked")
	}
	v.sshAlgorithms()
	v.checkDurations("ssh", []durationLimit{
		{"cert_max_lifetime", &s.CertMaxLifetime, DefaultCertMaxLifetime, time.Minute, 7 * 24 * time.Hour},
	}, nil)
	if len(s.Banner) > maxBannerLen {
		v.probs.add("ssh.banner", "longer than %d bytes", maxBannerLen)
	}
	seen := map[string]string{}
	for i, text := range s.UserCAKeys {
		field := indexPath("ssh.user_ca_keys", i)
		k, msg := parseCAKey(text)
		if msg != "" {
			v.probs.add(field, "%s", msg)
			continue
		}
		fp := string(k.Marshal())
		if other, dup := seen[fp]; dup {
			v.probs.add(field, "same key as %s", other)
			continue
		}
		seen[fp] = field
		s.caKeys = append(s.caKeys, k)
	}
}

// roles checks role names and rule shapes and returns the set of names.
// The actions and selectors themselves are checked by the caller's Checks
// (the gateway checks them with package authz).
func (v *validator) roles() map[string]bool {
	names := map[string]bool{}
	first := map[string]string{}
	for i, r := range v.c.Roles {
		field := indexPath("roles", i)
		if r.Name == "" {
			v.probs.add(fieldPath(field, "name"), "required")
		} else if err := checkName(r.Name, "role name", false); err != nil {
			v.probs.add(fieldPath(field, "name"), "%v", err)
		} else if other, dup := first[r.Name]; dup {
			v.probs.add(fieldPath(field, "name"), "%s", dupMessage("role", r.Name, other))
		} else {
			first[r.Name] = field
		}
		if r.Name != "" {
			names[r.Name] = true
		}
		if len(r.Description) > maxDescriptionLen {
			v.probs.add(fieldPath(field, "description"), "longer than %d bytes", maxDescriptionLen)
		}
		v.rules(fieldPath(field, "allow"), r.Allow)
		v.rules(fieldPath(field, "deny"), r.Deny)
	}
	return names
}

// rules checks that every rule names actions and has no empty entries.
func (v *validator) rules(field string, rules []Rule) {
	for i, r := range rules {
		rf := indexPath(field, i)
		if len(r.Actions) == 0 {
			v.probs.add(fieldPath(rf, "actions"), "at least one action is required")
		}
		for j, a := range r.Actions {
			if a == "" {
				v.probs.add(indexPath(fieldPath(rf, "actions"), j), "empty action")
			}
		}
		for j, b := range r.BMCs {
			if b == "" {
				v.probs.add(indexPath(fieldPath(rf, "bmcs"), j), "empty BMC selector")
			}
		}
	}
}

// dupMessage says that a name is already defined at another field.
func dupMessage(what, name, other string) string {
	return fmt.Sprintf("%s %q is already defined at %s", what, name, other)
}

// entryName checks the name of the list entry at field ("users[2]"): it is
// required, a valid name (nameWhat is what checkName calls it, like "user
// name") and not taken by an earlier entry. first maps each name to the
// entry that defined it; kind names the entries in the duplicate message
// ("user").
func (v *validator) entryName(first map[string]string, field, name, nameWhat, kind string) {
	nameField := fieldPath(field, "name")
	switch err := checkName(name, nameWhat, false); {
	case name == "":
		v.probs.add(nameField, "required")
	case err != nil:
		v.probs.add(nameField, "%v", err)
	case first[name] != "":
		v.probs.add(nameField, "%s", dupMessage(kind, name, first[name]))
	default:
		first[name] = field
	}
}
