package configs

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testTOTP is RFC 6238's test key "12345678901234567890" in base32.
const testTOTP = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// testHash is a well-formed argon2id hash string (the values are not a real
// password's: the loader only checks the format).
var testHash = "$argon2id$v=19$m=65536,t=3,p=2$" +
	base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef")) + "$" +
	base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// webConfig is the base config with the web door on and a web section
// (lines 23 on).
func webConfig(t testing.TB) string {
	text := mutate(t, baseConfig(t), "  ssh: 127.0.0.1:2222\n", "  ssh: 127.0.0.1:2222\n  https: 127.0.0.1:8443\n")
	return text + `web:
  oidc:
    issuer: https://idp.example.com/realms/ops
    client_id: bmcgate
    client_secret_file: oidc-secret
    group_roles:
      ops-team: [ops]
  break_glass:
    - name: bg-alice
      password_hash: "` + testHash + `"
      totp_secret_file: totp/bg-alice
      roles: [ops]
`
}

// writeWebFixture writes the config plus the OIDC client secret and TOTP
// secret files it names.
func writeWebFixture(t testing.TB, text string) string {
	t.Helper()
	path := writeFixture(t, text)
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "oidc-secret"), []byte("client-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "totp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "totp", "bg-alice"), []byte(strings.ToLower(testTOTP)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWebConfigDefaults(t *testing.T) {
	path := writeWebFixture(t, webConfig(t))
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := c.Web
	if w.PublicURL != "https://127.0.0.1:8443" || w.Origin() != "https://127.0.0.1:8443" {
		t.Errorf("public url %q origin %q", w.PublicURL, w.Origin())
	}
	o := w.OIDC
	if !slices.Equal(o.Scopes, DefaultOIDCScopes) || o.UsernameClaim != "preferred_username" || o.GroupsClaim != "groups" {
		t.Errorf("oidc defaults: %+v", o)
	}
	if !slices.Equal(o.APIAudiences, []string{"bmcgate"}) || !slices.Equal(o.APIClients, []string{"bmcgate"}) ||
		!slices.Equal(o.APITokenTypes, []string{"at+jwt"}) || o.APITokenMaxLifetime.Duration != time.Hour || o.ClockSkew.Duration != time.Minute {
		t.Errorf("api bearer defaults: %v %v %v %s %s", o.APIAudiences, o.APIClients, o.APITokenTypes, o.APITokenMaxLifetime, o.ClockSkew)
	}
	if o.ClientSecret().Reveal() != "client-s3cret" {
		t.Errorf("client secret not read")
	}
	if got := string(w.BreakGlass[0].TOTPSecret()); got != "12345678901234567890" {
		t.Errorf("totp secret decoded to %q", got)
	}
	checks := []struct {
		name      string
		got, want time.Duration
	}{
		{"idle", w.Session.IdleTimeout.Duration, 30 * time.Minute},
		{"max", w.Session.MaxLifetime.Duration, 12 * time.Hour},
		{"refresh", w.Session.RefreshInterval.Duration, 10 * time.Minute},
		{"tokens", w.APITokens.MaxLifetime.Duration, 30 * 24 * time.Hour},
		{"window", w.LoginLimits.Window.Duration, 15 * time.Minute},
		{"lockout", w.LoginLimits.Lockout.Duration, 15 * time.Minute},
		{"cache", w.PowerCacheTTL.Duration, 30 * time.Second},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %s, want %s", ch.name, ch.got, ch.want)
		}
	}
	if w.LoginLimits.MaxFailures != 5 || w.LoginLimits.PerSourcePerMinute != 10 || w.LoginLimits.PerAccountPerMinute != 10 {
		t.Errorf("login limits %+v", w.LoginLimits)
	}
	// SkipSecrets reads neither file.
	c, err = Load(writeFixture(t, webConfig(t)), LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Web.BreakGlass[0].TOTPSecret() != nil || !c.Web.OIDC.ClientSecret().IsZero() {
		t.Error("secrets resolved with SkipSecrets")
	}
}

// TestWebProblems changes one thing in the web config and checks the exact
// problems.
func TestWebProblems(t *testing.T) {
	const f = "DIR/bmcgate.yaml"
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"public url http", "web:\n", "web:\n  public_url: http://gw.example.com\n",
			[]string{f + ":24: web.public_url: must start with https:// (the web door serves only HTTPS)"}},
		{"public url path", "web:\n", "web:\n  public_url: https://gw.example.com/bmc\n",
			[]string{f + ":24: web.public_url: must not have a path: the web door is served at the root"}},
		{"public url every interface", "https: 127.0.0.1:8443", "https: 0.0.0.0:8443",
			[]string{f + ":23: web.public_url: required when listen.https listens on every interface: the URL browsers use, like https://bmcgate.example.com:8443"}},
		{"tls half", "web:\n", "web:\n  tls:\n    cert_file: web.crt\n",
			[]string{f + ":24: web.tls.key_file: required with cert_file"}},
		{"issuer http", "issuer: https://idp.example.com/realms/ops", "issuer: http://idp.example.com",
			[]string{f + ":25: web.oidc.issuer: must use https (http is accepted only on loopback, for tests)"}},
		{"issuer missing", "    issuer: https://idp.example.com/realms/ops\n", "",
			[]string{f + ":24: web.oidc.issuer: required: the provider's issuer URL"}},
		{"two client secrets", "    client_secret_file: oidc-secret\n", "    client_secret_file: oidc-secret\n    client_secret_env: X\n",
			[]string{f + ":28: web.oidc.client_secret_env: set only one of client_secret_file and client_secret_env"}},
		{"scopes without openid", "    client_id: bmcgate\n", "    client_id: bmcgate\n    scopes: [profile]\n",
			[]string{f + ":27: web.oidc.scopes: must include openid"}},
		{"api bearer knobs", "    client_id: bmcgate\n", "    client_id: bmcgate\n    api_clients: []\n    api_token_types: [\"at jwt\"]\n    api_token_max_lifetime: 720h\n    clock_skew: 1h\n",
			[]string{f + ":27: web.oidc.api_clients: list at least one client id (leave it out for [client_id])",
				f + ":28: web.oidc.api_token_types[0]: not a token type: like at+jwt or JWT",
				f + ":29: web.oidc.api_token_max_lifetime: 720h0m0s is out of range: use 1m0s to 24h0m0s (default 1h0m0s)",
				f + ":30: web.oidc.clock_skew: 1h0m0s is out of range: use 0s to 5m0s (default 1m0s)"}},
		{"account rate", "web:\n", "web:\n  login_limits: {per_account_per_minute: 0}\n",
			[]string{f + ":24: web.login_limits.per_account_per_minute: 0 is out of range: use 1 to 1000 (default 10)"}},
		{"unknown role for group", "ops-team: [ops]", "ops-team: [ops, root]",
			[]string{f + `:29: web.oidc.group_roles.ops-team[1]: unknown role "root"`}},
		{"claims and userinfo", "    client_id: bmcgate\n", "    client_id: bmcgate\n    groups_claim: realm_access..roles\n    email_claim: \"\"\n    userinfo: sometimes\n",
			[]string{f + ":27: web.oidc.groups_claim: not a valid claim name: a name, or a dotted path like realm_access.roles",
				f + ":28: web.oidc.email_claim: must not be empty (leave it out for email)",
				f + `:29: web.oidc.userinfo: must be auto, always or never, not "sometimes"`}},
		{"unknown role for user", "    group_roles:\n", "    user_roles:\n      carol: [ops, root]\n      \"\": [ops]\n    group_roles:\n",
			[]string{f + `:29: web.oidc.user_roles.carol[1]: unknown role "root"`,
				f + `:30: web.oidc.user_roles[""]: user names are 1 to 128 printable characters`}},
		{"no group or user roles", "    group_roles:\n      ops-team: [ops]\n", "",
			[]string{f + ":24: web.oidc.group_roles: required: map at least one provider group (or, under user_roles, one user) to bmcgate roles"}},
		{"bad hash", "password_hash: \"" + testHash + "\"", "password_hash: \"$2y$10$abc\"",
			[]string{f + `:32: web.break_glass[0].password_hash: not an argon2id hash: make one with "bmcgate passwd"`}},
		{"weak hash", "m=65536,t=3,p=2", "m=1024,t=1,p=1",
			[]string{f + ":32: web.break_glass[0].password_hash: argon2id memory must be 8192 to 524288 KiB"}},
		{"no totp", "      totp_secret_file: totp/bg-alice\n", "",
			[]string{f + ":31: web.break_glass[0]: no TOTP secret: set totp_secret_file or totp_secret_env (break-glass accounts need a second factor)"}},
		{"unknown break-glass role", "      roles: [ops]\n", "      roles: [nobody]\n",
			[]string{f + `:34: web.break_glass[0].roles[0]: unknown role "nobody"`}},
		{"idle longer than max", "web:\n", "web:\n  session:\n    idle_timeout: 2h\n    max_lifetime: 1h\n",
			[]string{f + ":25: web.session.idle_timeout: 2h0m0s is longer than max_lifetime (1h0m0s)"}},
		{"lockout range", "web:\n", "web:\n  login_limits:\n    max_failures: 0\n",
			[]string{f + ":25: web.login_limits.max_failures: 0 is out of range: use 1 to 100 (default 5)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeWebFixture(t, mutate(t, webConfig(t), tt.old, tt.new)), LoadOptions{})
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestWebSecretsProblems(t *testing.T) {
	path := writeWebFixture(t, webConfig(t))
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "totp", "bg-alice"), []byte("JBSWY3DP\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := problemLines(t, path, LoadOptions{})
	want := []string{"DIR/bmcgate.yaml:33: web.break_glass[0].totp_secret_file: the TOTP secret is shorter than 128 bits"}
	if !slices.Equal(got, want) {
		t.Errorf("short totp: %v", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "totp", "bg-alice"), []byte(testTOTP+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "totp", "bg-alice"), 0o644); err != nil {
		t.Fatal(err)
	}
	got = problemLines(t, path, LoadOptions{})
	if len(got) != 1 || !strings.Contains(got[0], "chmod 600") || strings.Contains(got[0], testTOTP) {
		t.Errorf("world-readable totp: %v", got)
	}
}

func TestWebNoLoginMethod(t *testing.T) {
	text := mutate(t, baseConfig(t), "  ssh: 127.0.0.1:2222\n", "  ssh: 127.0.0.1:2222\n  https: 127.0.0.1:8443\n") +
		"web:\n  break_glass:\n    - name: bg\n      password_hash: \"" + testHash + "\"\n      totp_secret_env: BG_TOTP\n      roles: [ops]\n      disabled: true\n"
	got := problemLines(t, writeFixture(t, text), LoadOptions{SkipSecrets: true})
	want := []string{"DIR/bmcgate.yaml:23: web: " + noLoginMessage}
	if !slices.Equal(got, want) {
		t.Errorf("problems %v", got)
	}
}

func TestParseArgon2id(t *testing.T) {
	p, err := ParseArgon2id(testHash)
	if err != nil || p.Memory != 65536 || p.Time != 3 || p.Threads != 2 || len(p.Salt) != 16 || len(p.Hash) != 32 {
		t.Fatalf("ParseArgon2id = %+v, %v", p, err)
	}
	bad := []string{"", "$argon2i$v=19$m=65536,t=3,p=2$AAAA$BBBB", "$argon2id$v=16$m=65536,t=3,p=2$AAAA$BBBB",
		strings.Replace(testHash, "t=3", "t=0", 1), strings.Replace(testHash, "p=2", "p=300", 1),
		strings.Replace(testHash, "m=65536", "m=x", 1), testHash + "$extra", strings.Replace(testHash, "MDEy", "!!!!", 1)}
	for _, s := range bad {
		if _, err := ParseArgon2id(s); err == nil {
			t.Errorf("ParseArgon2id(%q) accepted", s)
		}
	}
}

func TestDecodeTOTPSecret(t *testing.T) {
	for _, s := range []string{testTOTP, strings.ToLower(testTOTP), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", testTOTP + "===="} {
		k, err := DecodeTOTPSecret(s)
		if err != nil || string(k) != "12345678901234567890" {
			t.Errorf("DecodeTOTPSecret(%q) = %q, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "JBSWY3DP", "not base32!"} {
		if _, err := DecodeTOTPSecret(s); err == nil {
			t.Errorf("DecodeTOTPSecret(%q) accepted", s)
		}
	}
}

// TestWebOnly: single sign-on and break-glass without SSH users is a valid
// deployment whose SSH door stays closed; a config with no way in at all is
// refused, whichever door it names.
func TestWebOnly(t *testing.T) {
	noUsers := func(text string) string {
		return mutate(t, text, "users:\n  - name: alice\n    ssh_keys:\n      - \""+testKey(t, "alice")+"\"\n    roles: [ops]\n", "")
	}
	c, err := Load(writeWebFixture(t, noUsers(webConfig(t))), LoadOptions{})
	if err != nil {
		t.Fatalf("web-only config refused: %v", err)
	}
	if c.SSHLogin() {
		t.Error("SSH door on without anyone to log in")
	}
	c, err = Load(writeWebFixture(t, webConfig(t)), LoadOptions{})
	if err != nil || !c.SSHLogin() {
		t.Fatalf("SSH users: %v, SSHLogin %v", err, c != nil && c.SSHLogin())
	}
	// Only single sign-on, or only break-glass, is enough.
	ssoOnly := noUsers(mutate(t, webConfig(t), "  break_glass:\n", "  break_glass_off:\n"))
	ssoOnly = ssoOnly[:strings.Index(ssoOnly, "  break_glass_off:\n")]
	if _, err := Load(writeWebFixture(t, ssoOnly), LoadOptions{}); err != nil {
		t.Errorf("single sign-on only: %v", err)
	}
	if _, err := Load(writeWebFixture(t, noUsers(withoutOIDC(webConfig(t)))), LoadOptions{}); err != nil {
		t.Errorf("break-glass only: %v", err)
	}
	for name, tc := range map[string]struct{ text, want string }{
		"no users, no web door": {noUsers(baseConfig(t)), "users: no way to log in"},
		"no users, web door without a login": {noUsers(withoutOIDC(mutate(t, webConfig(t), "      roles: [ops]\n", "      roles: [ops]\n      disabled: true\n"))),
			"users: no way to log in"},
		"user CA, no users": {mutate(t, noUsers(baseConfig(t)), "listen:\n", "ssh:\n  user_ca_keys: [\""+testKey(t, "ca")+"\"]\nlisten:\n"),
			"ssh.user_ca_keys: no enabled user is listed"},
	} {
		got := strings.Join(problemLines(t, writeWebFixture(t, tc.text), LoadOptions{}), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems\n%s", name, got)
		}
	}
	c, err = Load(writeWebFixture(t, mutate(t, baseConfig(t), "listen:\n", "ssh:\n  user_ca_keys: [\""+testKey(t, "ca")+"\"]\nlisten:\n")), LoadOptions{})
	if err != nil || !c.SSHLogin() {
		t.Errorf("user CA with a user: %v", err)
	}
}

// withoutOIDC removes the web.oidc section of webConfig's text.
func withoutOIDC(text string) string {
	a, b := strings.Index(text, "  oidc:\n"), strings.Index(text, "  break_glass:\n")
	return text[:a] + text[b:]
}

// TestWebOIDCClaimsConfig reads the claim settings and user_roles, with
// user_roles alone enough to log in.
func TestWebOIDCClaimsConfig(t *testing.T) {
	text := mutate(t, webConfig(t), "    group_roles:\n      ops-team: [ops]\n",
		"    username_claim: https://example.com/login\n    groups_claim: realm_access.roles\n    userinfo: always\n    user_roles:\n      carol: [ops]\n")
	c, err := Load(writeWebFixture(t, text), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.Web.OIDC
	if o.UsernameClaim != "https://example.com/login" || o.GroupsClaim != "realm_access.roles" || o.EmailClaim != "email" ||
		o.Userinfo != UserinfoAlways || !slices.Equal(o.UserRoles["carol"], []string{"ops"}) {
		t.Errorf("oidc claims: %+v", o)
	}
	c, err = Load(writeWebFixture(t, webConfig(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Web.OIDC.Userinfo != UserinfoAuto {
		t.Errorf("userinfo default %q", c.Web.OIDC.Userinfo)
	}
}

// TestIssueCertificates: the gateway's own certificates need the web door
// with single sign-on, open the SSH door in a web-only deployment, and
// their lifetime is bounded.
func TestIssueCertificates(t *testing.T) {
	noWeb := mutate(t, baseConfig(t), "listen:\n", "ssh:\n  issue_certificates: true\n  cert_max_lifetime: 200h\nlisten:\n")
	got := problemLines(t, writeFixture(t, noWeb), LoadOptions{SkipSecrets: true})
	want := []string{
		"DIR/bmcgate.yaml:4: ssh.issue_certificates: needs the web door with single sign-on (listen.https and web.oidc): certificates are issued to its users",
		"DIR/bmcgate.yaml:5: ssh.cert_max_lifetime: 200h0m0s is out of range: use 1m0s to 168h0m0s (default 8h0m0s)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	noUsers := mutate(t, webConfig(t), "users:\n  - name: alice\n    ssh_keys:\n      - \""+testKey(t, "alice")+"\"\n    roles: [ops]\n", "")
	c, err := Load(writeWebFixture(t, mutate(t, noUsers, "listen:\n", "ssh:\n  issue_certificates: true\nlisten:\n")), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.SSHLogin() || c.SSH.CertMaxLifetime.Duration != 8*time.Hour {
		t.Errorf("SSHLogin %v, cert_max_lifetime %s", c.SSHLogin(), c.SSH.CertMaxLifetime)
	}
}
