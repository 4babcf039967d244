package configs

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestExampleLoadsWithoutSecrets is what CI's
// "bmcgate config check --config configs/example.yaml --skip-secrets" relies on.
func TestExampleLoadsWithoutSecrets(t *testing.T) {
	c, err := Load("example.yaml", LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatalf("example.yaml:\n%v", err)
	}
	if len(c.Roles) != 4 || len(c.Users) < 3 || len(c.BMCs) < 3 {
		t.Errorf("example has %d roles, %d users, %d BMCs", len(c.Roles), len(c.Users), len(c.BMCs))
	}
	var names []string
	for _, r := range c.Roles {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "admin,operator,auditor,console" {
		t.Errorf("example roles = %s", got)
	}
	for _, b := range c.BMCs {
		if !b.Password().IsZero() {
			t.Errorf("%s: password resolved with SkipSecrets", b.Name)
		}
		file := b.IPMI.PasswordFile
		if !b.HasIPMI() {
			file = b.Redfish.PasswordFile
		}
		if !strings.HasPrefix(file, "/etc/bmcgate/bmc-passwords/") {
			t.Errorf("%s: password_file %s", b.Name, b.IPMI.PasswordFile)
		}
		if len(b.Labels) == 0 {
			t.Errorf("%s: no labels", b.Name)
		}
	}
}

func TestExampleEmbedded(t *testing.T) {
	b, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Example) {
		t.Error("Example differs from example.yaml")
	}
	if _, err := Parse("example.yaml", Example, LoadOptions{SkipSecrets: true}); err != nil {
		t.Error(err)
	}
}

// TestExampleLoadsWithSecrets rewrites the example's password paths into
// temporary files with mode 0600 and loads it with secrets resolved.
func TestExampleLoadsWithSecrets(t *testing.T) {
	dir := t.TempDir()
	re := regexp.MustCompile(`/etc/bmcgate/bmc-passwords/([a-z0-9]+)`)
	want := map[string]string{}
	text := re.ReplaceAllStringFunc(string(Example), func(m string) string {
		name := re.FindStringSubmatch(m)[1]
		p := filepath.Join(dir, name)
		pw := "pw-" + name
		want[name] = pw
		if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	})
	path := filepath.Join(dir, "bmcgate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range c.BMCs {
		pw := b.Password()
		if !b.HasIPMI() {
			pw = b.RedfishPassword()
		}
		if got := pw.Reveal(); got != want[b.Name] {
			t.Errorf("%s: password %q, want %q", b.Name, got, want[b.Name])
		}
	}
	if len(want) != len(c.BMCs) {
		t.Errorf("rewrote %d password paths for %d BMCs", len(want), len(c.BMCs))
	}
}

// TestWalkerMatchesStrictDecoder checks that the field-by-field decoder
// builds exactly what yaml's strict decoder builds from the same file.
func TestWalkerMatchesStrictDecoder(t *testing.T) {
	for _, name := range []string{"example.yaml", "base"} {
		data := Example
		if name == "base" {
			data = []byte(baseConfig(t) + "limits:\n  idle_timeout: 5m\n  max_targets: 7\nsecrets:\n  allow_inline_passwords: true\n")
		}
		probs := newCollector(name, positions{})
		root := parseDocument(data, probs)
		if root == nil {
			t.Fatal(probs.err())
		}
		var walked Config
		w := &walker{pos: positions{}, probs: probs}
		w.decode(root, reflect.ValueOf(&walked).Elem(), "")
		if err := probs.err(); err != nil {
			t.Fatal(err)
		}
		var strict Config
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&strict); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(walked, strict) {
			t.Errorf("%s: walker decoded\n%+v\nstrict decoder\n%+v", name, walked, strict)
		}
	}
}

// TestExampleLimitsAreDefaults keeps the example honest: the limits it
// shows are documented as the defaults.
func TestExampleLimitsAreDefaults(t *testing.T) {
	ex, err := Parse("example.yaml", Example, LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	base, err := Load(writeFixture(t, baseConfig(t)), LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Limits != base.Limits {
		t.Errorf("example limits\n%+v\ndefaults\n%+v", ex.Limits, base.Limits)
	}
}
