package configs

import (
	"slices"
	"strings"
	"testing"
)

// profileBase is the base config with a custom login profile (lines 22 to
// 36) used by node01's web section.
func profileBase(t *testing.T) string {
	return baseConfig(t) + `    web:
      url: https://10.0.0.1
      tls: {insecure_skip_verify_dangerous: true}
      login: xcc
web_profiles:
  - name: xcc
    doc: a JSON login answering a bearer token
    login:
      - method: POST
        path: /api/login
        content_type: application/json
        body: '{"username":"{{username}}","password":"{{password}}"}'
        capture:
          - {var: token, from: json, name: access_token}
    logout: {method: POST, path: /api/logout, headers: {X-Token: "{{var.token}}"}}
    replay:
      - {as: header, name: X-Token, var: token}
`
}

func TestWebProfileLoads(t *testing.T) {
	c, err := Load(writeFixture(t, profileBase(t)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BMCs[0].WebUI.Login != "xcc" || len(c.WebProfiles) != 1 || c.WebProfiles[0].Login[0].Capture[0].Name != "access_token" {
		t.Errorf("profile %+v", c.WebProfiles)
	}
}

func TestWebProfileProblems(t *testing.T) {
	const f = "DIR/bmcgate.yaml"
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"shipped name", "  - name: xcc", "  - name: redfish", []string{
			f + `:27: web_profiles[0].name: "redfish" is a shipped profile: choose another name`,
		}},
		{"bad method", "method: POST\n        path: /api/login", "method: TRACE\n        path: /api/login", []string{f + ":30: web_profiles[0].login[0].method: use GET, POST, PUT, PATCH or DELETE"}},
		{"bad path", "path: /api/login", "path: api/login", []string{f + ":31: web_profiles[0].login[0].path: must start with / (a path on the BMC) or be a {{var.NAME}}"}},
		{"content type", "content_type: application/json", "content_type: text/xml", []string{f + ":32: web_profiles[0].login[0].content_type: use application/json or application/x-www-form-urlencoded"}},
		{"unknown placeholder", "{{password}}", "{{secret}}", []string{f + ":33: web_profiles[0].login[0].body: unknown placeholder {{secret}}: use {{username}}, {{password}} or {{var.NAME}}"}},
		{"uncaptured var", `"{{var.token}}"`, `"{{var.tok}}"`, []string{f + `:36: web_profiles[0].logout.headers.X-Token: {{var.tok}}: no earlier step captures "tok"`}},
		{"capture source", "from: json", "from: xml", []string{f + ":35: web_profiles[0].login[0].capture[0].from: use header, cookie, json or body_regex"}},
		{"regex groups", "from: json, name: access_token", "from: body_regex, name: 'a(b)(c)'", []string{f + ":35: web_profiles[0].login[0].capture[0].name: must be a regular expression with exactly one group"}},
		{"replay reserved header", "{as: header, name: X-Token, var: token}", "{as: header, name: Host, var: token}", []string{f + ":38: web_profiles[0].replay[0].name: not a header or cookie name the proxy may set"}},
		{"replay var", "{as: header, name: X-Token, var: token}", "{as: header, name: X-Token, var: nope}", []string{f + `:38: web_profiles[0].replay[0].var: no login step captures "nope"`}},
		{"replay as", "{as: header, name: X-Token, var: token}", "{as: query, name: X-Token, var: token}", []string{f + ":38: web_profiles[0].replay[0].as: use header or cookie"}},
		{"unknown login", "login: xcc", "login: xcc2", []string{f + ":25: bmcs[0].web.login: unknown login: use one of none, redfish, openbmc, idrac9, ilo5, ilo6, supermicro-x11, or a name from web_profiles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, writeFixture(t, mutate(t, profileBase(t), tt.old, tt.new)), LoadOptions{})
			if tt.name == "shipped name" {
				// node01 still names xcc, which no longer exists.
				got = slices.DeleteFunc(got, func(s string) bool { return strings.Contains(s, "bmcs[0].web.login") })
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
