package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretRedaction(t *testing.T) {
	const pw = "hunter2-Secret"
	s := NewSecret(pw)
	if s.Reveal() != pw || s.IsZero() {
		t.Fatal("Reveal does not return the password")
	}
	b := BMC{Name: "node01", IPMI: IPMI{Username: "admin", Password: s}, password: s}
	holder := struct {
		Pass Secret
		BMC  BMC
		Ptr  *Secret
	}{s, b, &s}

	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v"} {
		outputs = append(outputs, fmt.Sprintf(format, s), fmt.Sprintf(format, holder), fmt.Sprintf(format, b), fmt.Sprintf(format, &b))
	}
	outputs = append(outputs, fmt.Sprint(s), fmt.Sprintln(s, b), s.String(), s.GoString())

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("login", "password", s, "bmc", b, "holder", holder)
		l.Info("group", slog.Group("g", slog.Any("secret", s)))
	}
	outputs = append(outputs, logs.String())

	for _, v := range []any{s, holder, b, &b} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(j))
		y, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(y))
	}
	txt, _ := s.MarshalText()
	outputs = append(outputs, string(txt))

	for _, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("output reveals the password: %s", out)
		}
	}
	if got := fmt.Sprintf("%v|%s|%#v", s, s, s); got != "[redacted]|[redacted]|[redacted]" {
		t.Errorf("fmt: %s", got)
	}
	if j, _ := json.Marshal(s); string(j) != `"[redacted]"` {
		t.Errorf("json: %s", j)
	}
	if !strings.Contains(logs.String(), "password=[redacted]") || !strings.Contains(logs.String(), `"password":"[redacted]"`) {
		t.Errorf("slog output:\n%s", logs.String())
	}
	if !(Secret{}).IsZero() || (Secret{}).Reveal() != "" {
		t.Error("zero Secret")
	}
}

func TestInlinePasswordAllowed(t *testing.T) {
	text := baseConfig(t) + "secrets:\n  allow_inline_passwords: true\n"
	text = mutate(t, text, "password_file: pw/node01", "password: \""+testPassword+"\"")
	c, err := Load(writeFixture(t, text), LoadOptions{SkipSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BMCs[0].Password().Reveal(); got != testPassword {
		t.Errorf("password %q", got)
	}
	if out := fmt.Sprintf("%+v %#v", c, c); strings.Contains(out, testPassword) {
		t.Errorf("printing the config reveals the password: %s", out)
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(y), testPassword) {
		t.Errorf("marshaling the config reveals the password:\n%s", y)
	}
}
