package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBaseConfigLoads(t *testing.T) {
	path := writeFixture(t, baseConfig(t))
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	checks := []struct{ name, got, want string }{
		{"data_dir", c.DataDir, filepath.Join(dir, "data")},
		{"host key", c.SSH.HostKeyFile, filepath.Join(dir, "data", DefaultHostKeyName)},
		{"address", c.BMCs[0].Address, "10.0.0.1:623"},
		{"password_file", c.BMCs[0].IPMI.PasswordFile, filepath.Join(dir, "pw", "node01")},
		{"password", c.BMCs[0].Password().Reveal(), testPassword},
		{"privilege", c.BMCs[0].IPMI.Privilege, PrivilegeOperator},
		{"path", c.Path, path},
		{"idle", c.Limits.IdleTimeout.String(), "15m0s"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.BMCs[0].IPMI.CipherSuite != CipherSuite3 {
		t.Errorf("cipher suite = %d, want 3", c.BMCs[0].IPMI.CipherSuite)
	}
	if len(c.Users[0].PublicKeys()) != 1 || c.Users[0].PublicKeys()[0].Type() != "ssh-ed25519" {
		t.Errorf("user keys = %v", c.Users[0].PublicKeys())
	}
	if line, col := c.Pos("bmcs[0].ipmi.username"); line != 20 || col != 7 {
		t.Errorf("Pos(username) = %d:%d, want 20:7", line, col)
	}
	if line, _ := c.Pos("bmcs[0].ipmi.cipher_suite"); line != 19 {
		t.Errorf("Pos of an absent field = line %d, want its parent's line 19", line)
	}
	if line, col := c.Pos("nonexistent"); line != 0 || col != 0 {
		t.Errorf("Pos(nonexistent) = %d:%d", line, col)
	}
	l := c.Limits
	if l.MaxConnections != 256 || l.MaxConnectionsPerUser != 16 || l.FanoutConcurrency != 32 || l.MaxTargets != 1000 || l.IPMISessionsPerBMC != 2 {
		t.Errorf("int limit defaults: %+v", l)
	}
	if l.HandshakeTimeout.Seconds() != 10 || l.MaxSessionDuration.Hours() != 12 || l.CommandTimeout.Seconds() != 60 ||
		l.IPMICallTimeout.Seconds() != 10 || l.IPMIConnectTimeout.Seconds() != 5 || l.IPMIKeepAlive.Seconds() != 15 {
		t.Errorf("duration limit defaults: %+v", l)
	}
}

// TestProblems changes one thing in the valid base config and checks the
// exact problems reported, "FILE:LINE: FIELD: MESSAGE" with the file's
// directory shown as DIR.
func TestProblems(t *testing.T) {
	const f = "DIR/bmcgate.yaml"
	tests := []struct {
		name     string
		old, new string // replaced once in the base config; old "" appends new
		want     []string
	}{
		// Version, listen, data_dir.
		{"version 2", "version: 1", "version: 2", []string{f + ":1: version: unsupported version 2: this bmcgate reads version 1"}},
		{"version missing", "version: 1\n", "", []string{f + `: version: required: start the file with "version: 1"`}},
		{"version wrong type", "version: 1", "version: one", []string{f + ":1: version: must be a whole number, got a string"}},
		{"version quoted", "version: 1", `version: "1"`, []string{f + ":1: version: must be a whole number, got a string"}},
		{"data_dir missing", "data_dir: data\n", "", []string{f + ": data_dir: required: the directory for the audit log and host key"}},
		{"listen port range", "ssh: 127.0.0.1:2222", "ssh: 127.0.0.1:70000", []string{f + `:4: listen.ssh: invalid address "127.0.0.1:70000": port 70000 is out of range 1-65535`}},
		{"listen port zero", "ssh: 127.0.0.1:2222", "ssh: 127.0.0.1:0", []string{f + `:4: listen.ssh: invalid address "127.0.0.1:0": port 0 is out of range 1-65535`}},
		{"listen no port", "ssh: 127.0.0.1:2222", "ssh: 127.0.0.1", []string{f + `:4: listen.ssh: invalid address "127.0.0.1": want host:port, like 127.0.0.1:2222`}},
		{"listen named port", "ssh: 127.0.0.1:2222", "ssh: 127.0.0.1:ssh", []string{f + `:4: listen.ssh: invalid address "127.0.0.1:ssh": port "ssh" is not a number`}},
		{"listen bad host", "ssh: 127.0.0.1:2222", "ssh: bad_host:22", []string{f + `:4: listen.ssh: invalid address "bad_host:22": the host is not a valid IP address or host name`}},
		{"listen empty", "ssh: 127.0.0.1:2222", `ssh: ""`, []string{f + ":4: listen.ssh: must not be empty (leave it out for the default 127.0.0.1:2222)"}},
		{"https same as ssh", "  ssh: 127.0.0.1:2222\n", "  ssh: 127.0.0.1:2222\n  https: 127.0.0.1:2222\n", []string{f + ":5: listen.https: same address as listen.ssh", f + ":5: listen.https: " + noLoginMessage}},
		{"https bad", "  ssh: 127.0.0.1:2222\n", "  ssh: 127.0.0.1:2222\n  https: nope\n", []string{f + `:5: listen.https: invalid address "nope": want host:port, like 127.0.0.1:2222`, f + ":5: listen.https: " + noLoginMessage}},

		// Unknown fields, wrong types, duplicate keys, YAML structure.
		{"unknown top-level key", "", "colour: blue\n", []string{f + ":22: colour: unknown field (known fields here: audit, bmc_defaults, bmcs, console, console_profiles, data_dir, images, limits, listen, roles, scan, secrets, ssh, users, version, web, web_profiles)"}},
		{"unknown key at depth", "      username: admin\n", "      username: admin\n      passwd: x\n", []string{f + ":21: bmcs[0].ipmi.passwd: unknown field (known fields here: cipher_suite, password, password_env, password_file, privilege, username)"}},
		{"unknown key with a control character", "", "\"col\\x1bour\": blue\n", []string{f + `:22: ["col\x1bour"]: unknown field (known fields here: audit, bmc_defaults, bmcs, console, console_profiles, data_dir, images, limits, listen, roles, scan, secrets, ssh, users, version, web, web_profiles)`}},
		{"tag with a control character", "version: 1", "version: !%07x 1", []string{f + `:1: version: must be a whole number, got a value tagged "!\ax"`}},
		{"unknown key in a rule", `        bmcs: ["*"]`, `        bmcs: ["*"]` + "\n        where: everywhere", []string{f + ":10: roles[0].allow[0].where: unknown field (known fields here: actions, bmcs)"}},
		{"list for a mapping", "labels: {rack: r1}", "labels: [r1]", []string{f + ":18: bmcs[0].labels: must be a mapping of keys to values, got a list"}},
		{"string for a list", "roles: [ops]", "roles: ops", []string{f + ":14: users[0].roles: must be a list, got a string"}},
		{"mapping for a string", "username: admin", "username: {first: ad}", []string{f + ":20: bmcs[0].ipmi.username: must be a string, got a mapping"}},
		{"string for a bool", "    roles: [ops]\n", "    roles: [ops]\n    disabled: maybe\n", []string{f + ":15: users[0].disabled: must be true or false, got a string"}},
		{"mapping for a struct list item", "  - name: node01\n    address: 10.0.0.1\n    labels: {rack: r1}\n    ipmi:\n      username: admin\n      password_file: pw/node01\n", "  - node01\n",
			[]string{f + ":16: bmcs[0]: must be a mapping of keys to values, got a string"}},
		{"duplicate key", "      username: admin\n", "      username: admin\n      username: root\n", []string{f + `:21: bmcs[0].ipmi.username: duplicate key "username": already defined at line 20`}},
		{"duplicate top-level key", "", "version: 1\n", []string{f + `:22: version: duplicate key "version": already defined at line 1`}},
		{"duplicate label key", "labels: {rack: r1}", "labels: {rack: r1, rack: r2}", []string{f + `:18: bmcs[0].labels.rack: duplicate key "rack": already defined at line 18`}},
		{"merge key", "", "defaults: &d {a: 1}\nlisten2:\n  <<: *d\n", []string{
			f + ":22: defaults: unknown field (known fields here: audit, bmc_defaults, bmcs, console, console_profiles, data_dir, images, limits, listen, roles, scan, secrets, ssh, users, version, web, web_profiles)",
			f + ":23: listen2: unknown field (known fields here: audit, bmc_defaults, bmcs, console, console_profiles, data_dir, images, limits, listen, roles, scan, secrets, ssh, users, version, web, web_profiles)",
		}},
		{"merge key in a known mapping", "listen:\n  ssh: 127.0.0.1:2222\n", "listen:\n  <<: {ssh: 127.0.0.1:2222}\n", []string{f + ":4: listen: merge keys (<<) are not supported: write the fields out"}},
		// yaml places this parser error at the line before the unclosed list.
		{"syntax error", "  ssh: 127.0.0.1:2222", "  ssh: [127.0.0.1", []string{f + ":3: did not find expected ',' or ']'"}},
		{"tab indentation", "  ssh: 127.0.0.1:2222", "\tssh: 127.0.0.1:2222", []string{f + ":4: found character that cannot start any token"}},
		{"two documents", "", "---\nversion: 1\n", []string{f + `:22: only one YAML document is allowed (remove the second "---")`}},
		{"list then mapping", "version: 1\n", "- version: 1\n", []string{f + ":1: did not find expected '-' indicator"}},

		// Roles and users.
		{"duplicate role", "users:\n", "  - name: ops\nusers:\n", []string{f + `:10: roles[1].name: role "ops" is already defined at roles[0]`}},
		{"role name upper case", "  - name: ops", "  - name: Ops", []string{
			f + `:6: roles[0].name: role name must be lower case: write "ops"`,
			f + `:14: users[0].roles[0]: unknown role "ops"`,
		}},
		{"role without name", "  - name: ops\n", "  - description: x\n", []string{
			f + ":6: roles[0].name: required",
			f + `:14: users[0].roles[0]: unknown role "ops"`,
		}},
		{"rule without actions", `      - actions: ["power.*"]`, `      - actions: []`, []string{f + ":8: roles[0].allow[0].actions: at least one action is required"}},
		{"empty selector", `bmcs: ["*"]`, `bmcs: ["*", ""]`, []string{f + ":9: roles[0].allow[0].bmcs[1]: empty BMC selector"}},
		{"unknown user role", "roles: [ops]", "roles: [ops, ghost]", []string{f + `:14: users[0].roles[1]: unknown role "ghost"`}},
		{"role listed twice", "roles: [ops]", "roles: [ops, ops]", []string{f + `:14: users[0].roles[1]: role "ops" is listed twice`}},
		{"duplicate user", "bmcs:\n", "  - name: alice\n    roles: [ops]\nbmcs:\n", []string{f + `:15: users[1].name: user "alice" is already defined at users[0]`}},
		{"user name with a space", "  - name: alice", "  - name: alice smith", []string{f + ":11: users[0].name: user name contains a space"}},
		{"disabled only user", "    roles: [ops]\n", "    roles: [ops]\n    disabled: true\n", []string{f + ":10: users: no way to log in: give at least one enabled user an ssh_keys entry (or set ssh.user_ca_keys and list the users it may sign for), or open the web door (listen.https) with web.oidc or an enabled web.break_glass account"}},

		// BMCs.
		{"BMC name trailing dot", "  - name: node01", "  - name: node01.", []string{f + ":16: bmcs[0].name: BMC name must not end with a dot"}},
		{"BMC name fullwidth", "  - name: node01", "  - name: ｎｏｄｅ01", []string{f + ":16: bmcs[0].name: BMC name must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed"}},
		{"BMC name zero-width space", "  - name: node01", "  - name: \"node01\\u200b\"", []string{f + ":16: bmcs[0].name: BMC name must be plain ASCII: only a-z, 0-9, '_', '.' and '-' are allowed"}},
		{"BMC name NUL", "  - name: node01", "  - name: \"node01\\0\"", []string{f + ":16: bmcs[0].name: BMC name contains a control character"}},
		{"BMC name upper case", "  - name: node01", "  - name: NODE01", []string{f + `:16: bmcs[0].name: BMC name must be lower case: write "node01"`}},
		{"BMC name missing", "  - name: node01\n    address", "  - address", []string{f + ":16: bmcs[0].name: required"}},
		{"duplicate BMC", "", "  - name: node01\n    address: 10.0.0.2\n    ipmi: {username: admin, password_file: pw/node01}\n", []string{f + `:22: bmcs[1].name: BMC "node01" is already defined at bmcs[0]`}},
		{"address bad port", "address: 10.0.0.1", "address: 10.0.0.1:abc", []string{f + `:17: bmcs[0].address: invalid address "10.0.0.1:abc": port "abc" is not a number`}},
		{"address missing", "    address: 10.0.0.1\n", "", []string{f + ":16: bmcs[0].address: required: the BMC's host or host:port"}},
		{"address with a space", "address: 10.0.0.1", `address: "bmc 1"`, []string{f + `:17: bmcs[0].address: invalid address "bmc 1": the host is not a valid IP address or host name`}},
		{"label value upper case", "labels: {rack: r1}", "labels: {rack: R1}", []string{f + `:18: bmcs[0].labels.rack: label value must be lower case: write "r1"`}},
		{"label key invalid", "labels: {rack: r1}", `labels: {"ra ck": r1}`, []string{f + `:18: bmcs[0].labels["ra ck"]: label key contains a space`}},
		{"username missing", "      username: admin\n", "", []string{f + ":19: bmcs[0].ipmi.username: required (anonymous IPMI login is not supported)"}},
		{"username too long", "username: admin", "username: administrator-account", []string{f + ":20: bmcs[0].ipmi.username: longer than 16 bytes, the IPMI limit"}},
		{"cipher suite 0", "", "      cipher_suite: 0\n", []string{f + ":22: bmcs[0].ipmi.cipher_suite: cipher suite 0 means no authentication and no encryption: use 3 or 17"}},
		{"cipher suite 1", "", "      cipher_suite: 1\n", []string{f + ":22: bmcs[0].ipmi.cipher_suite: unsupported cipher suite 1: use 3 (HMAC-SHA1 and AES-128, supported nearly everywhere) or 17 (HMAC-SHA256 and AES-128)"}},
		{"privilege", "", "      privilege: root\n", []string{f + ":22: bmcs[0].ipmi.privilege: unknown privilege: use user, operator or administrator"}},
		{"two password sources", "", "      password_env: BMC_PW\n", []string{f + ":22: bmcs[0].ipmi.password_env: set only one of password_file, password_env and password (found password_file and password_env)"}},
		{"three password sources", "", "      password_env: BMC_PW\n      password: " + testPassword + "\n", []string{f + ":22: bmcs[0].ipmi.password_env: set only one of password_file, password_env and password (found password_file, password_env and password)"}},
		{"no password source", "      password_file: pw/node01\n", "", []string{f + ":19: bmcs[0].ipmi: no password: set one of password_file, password_env or password"}},
		{"inline password refused", "password_file: pw/node01", "password: " + testPassword, []string{f + ":21: bmcs[0].ipmi.password: inline passwords are refused unless secrets.allow_inline_passwords is true: use password_file or password_env"}},
		{"inline password not a string", "password_file: pw/node01", "password: [" + testPassword + "]", []string{f + ":21: bmcs[0].ipmi.password: must be a string, got a list"}},
		{"bad env name", "password_file: pw/node01", "password_env: " + testPassword, []string{f + ":21: bmcs[0].ipmi.password_env: not a valid environment variable name (letters, digits and '_', not starting with a digit)"}},
		{"password file missing", "password_file: pw/node01", "password_file: pw/" + testPassword, []string{f + ":21: bmcs[0].ipmi.password_file: cannot read the password file: no such file or directory"}},
		{"password file is a directory", "password_file: pw/node01", "password_file: pw", []string{f + ":21: bmcs[0].ipmi.password_file: the password file is not a regular file"}},

		// Limits.
		{"duration without unit", "", "limits:\n  idle_timeout: 10\n", []string{f + `:23: limits.idle_timeout: must be a duration with a unit, like "10s" or "15m"`}},
		{"duration garbage", "", "limits:\n  idle_timeout: soon\n", []string{f + `:23: limits.idle_timeout: invalid duration "soon": use a number with a unit, like "10s" or "15m"`}},
		{"duration zero", "", "limits:\n  command_timeout: 0s\n", []string{f + ":23: limits.command_timeout: 0s is out of range: use 1s to 1h0m0s (default 1m0s)"}},
		{"duration negative", "", "limits:\n  handshake_timeout: -5s\n", []string{f + ":23: limits.handshake_timeout: -5s is out of range: use 1s to 5m0s (default 10s)"}},
		{"int zero", "", "limits:\n  max_targets: 0\n", []string{f + ":23: limits.max_targets: 0 is out of range: use 1 to 100000 (default 1000)"}},
		{"int wrong type", "", "limits:\n  max_targets: lots\n", []string{f + ":23: limits.max_targets: must be a whole number, got a string"}},
		{"int float", "", "limits:\n  max_targets: 1.5\n", []string{f + ":23: limits.max_targets: must be a whole number, got a decimal number"}},
		{"per-user above total", "", "limits:\n  max_connections: 4\n", []string{f + ":22: limits.max_connections_per_user: 16 is more than max_connections (4)"}},
		{"call longer than command", "", "limits:\n  ipmi_call_timeout: 2m\n", []string{f + ":23: limits.ipmi_call_timeout: 2m0s is longer than command_timeout (1m0s)"}},
		{"idle longer than session", "", "limits:\n  idle_timeout: 2h\n  max_session_duration: 1h\n", []string{f + ":23: limits.idle_timeout: 2h0m0s is longer than max_session_duration (1h0m0s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := baseConfig(t)
			if tt.old == "" {
				text += tt.new
			} else {
				text = mutate(t, text, tt.old, tt.new)
			}
			got := problemLines(t, writeFixture(t, text), LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestFiveProblems checks that five unrelated problems are all reported,
// in file order.
func TestFiveProblems(t *testing.T) {
	text := baseConfig(t)
	text = mutate(t, text, "version: 1", "version: 3")
	text = mutate(t, text, "ssh: 127.0.0.1:2222", "ssh: 127.0.0.1:99999")
	text = mutate(t, text, "roles: [ops]", "roles: [ops, root]")
	text = mutate(t, text, "address: 10.0.0.1", "address: 10.0.0.1:0")
	text = mutate(t, text, "username: admin", "username: admin\n      cipher_suite: 0")
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	want := []string{
		"DIR/bmcgate.yaml:1: version: unsupported version 3: this bmcgate reads version 1",
		`DIR/bmcgate.yaml:4: listen.ssh: invalid address "127.0.0.1:99999": port 99999 is out of range 1-65535`,
		`DIR/bmcgate.yaml:14: users[0].roles[1]: unknown role "root"`,
		`DIR/bmcgate.yaml:17: bmcs[0].address: invalid address "10.0.0.1:0": port 0 is out of range 1-65535`,
		"DIR/bmcgate.yaml:21: bmcs[0].ipmi.cipher_suite: cipher suite 0 means no authentication and no encryption: use 3 or 17",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestDecodeAndValidationProblemsTogether checks that type errors do not
// hide validation problems elsewhere in the file, and that a field with a
// type error is not reported twice.
func TestDecodeAndValidationProblemsTogether(t *testing.T) {
	text := baseConfig(t)
	text = mutate(t, text, "version: 1", "version: [1]")
	text = mutate(t, text, "      username: admin\n", "      username: admin\n      colour: red\n")
	text = mutate(t, text, "address: 10.0.0.1", "address: 10.0.0.1:x")
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	want := []string{
		"DIR/bmcgate.yaml:1: version: must be a whole number, got a list",
		`DIR/bmcgate.yaml:17: bmcs[0].address: invalid address "10.0.0.1:x": port "x" is not a number`,
		"DIR/bmcgate.yaml:21: bmcs[0].ipmi.colour: unknown field (known fields here: cipher_suite, password, password_env, password_file, privilege, username)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestFileLevelProblems(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "DIR/bmcgate.yaml: the file is empty"},
		{"only a comment", "# nothing\n", "DIR/bmcgate.yaml: the file is empty"},
		{"null document", "~\n", "DIR/bmcgate.yaml: the file is empty"},
		{"scalar", "hello\n", "DIR/bmcgate.yaml:1: the file must be a mapping of keys to values, got a string"},
		{"list", "- a\n", "DIR/bmcgate.yaml:1: the file must be a mapping of keys to values, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeFixture(t, tt.text), LoadOptions{})
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), LoadOptions{})
	if !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Load of a missing file: %v", err)
	}
	var cerr *Error
	if errorsAs(err, &cerr) {
		t.Errorf("a missing file is not a content problem: %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	text := baseConfig(t) + "# " + strings.Repeat("x", maxFileSize) + "\n"
	got := problemLines(t, writeFixture(t, text), LoadOptions{})
	if len(got) != 1 || !strings.Contains(got[0], "larger than") {
		t.Errorf("problems %q", got)
	}
}

// TestAliasBomb checks that nested aliases cannot make loading explode.
func TestAliasBomb(t *testing.T) {
	// 100 roles share 100 rules that share 1000 actions: 10 million nodes
	// once the aliases are followed, from a file of a few kilobytes.
	var b strings.Builder
	b.WriteString("version: 1\nx_acts: &acts [" + strings.Repeat("power.on, ", 999) + "power.on]\n")
	b.WriteString("x_rules: &rules [" + strings.Repeat("{actions: *acts}, ", 99) + "{actions: *acts}]\n")
	b.WriteString("roles: [" + strings.Repeat("{name: r, allow: *rules}, ", 99) + "{name: r, allow: *rules}]\n")
	_, err := Load(writeFixture(t, b.String()), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "too many aliases") {
		t.Fatalf("alias bomb: %v", err)
	}
	if n := strings.Count(err.Error(), "\n"); n > 200 {
		t.Errorf("alias bomb produced %d problems", n)
	}
}
