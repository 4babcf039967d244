package ipmi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestEndpointNeverPrintsPassword(t *testing.T) {
	ep := Endpoint{Name: "node01", Host: "10.0.0.5", Port: 623, Username: "bmcgate",
		Password: testPassword, CipherSuite: 17, Privilege: PrivOperator}
	type holder struct {
		EP  Endpoint
		Ptr *Endpoint
	}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%60v"} {
		outs = append(outs, fmt.Sprintf(verb, ep), fmt.Sprintf(verb, &ep), fmt.Sprintf(verb, holder{ep, &ep}))
	}
	outs = append(outs, fmt.Sprint(ep), fmt.Sprintln(ep, &ep), ep.String(), ep.GoString(),
		fmt.Sprintf("%v", []Endpoint{ep}), fmt.Sprintf("%+v", map[string]Endpoint{"a": ep}))
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "ep", ep, "ptr", &ep)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "ep", ep)
	outs = append(outs, text.String(), js.String())
	if b, err := json.Marshal(ep.LogValue().Resolve().Group()); err == nil {
		outs = append(outs, string(b))
	}
	for _, o := range outs {
		if strings.Contains(o, testPassword) {
			t.Fatalf("password leaked: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprintf("%#v", ep), `Password:"<redacted>"`) {
		t.Errorf("%%#v lacks the redaction marker: %#v", ep)
	}
	if !strings.Contains(text.String(), "ep.name=node01") || !strings.Contains(js.String(), `"cipher_suite":17`) {
		t.Errorf("slog output lacks fields: %s %s", text.String(), js.String())
	}
}

func TestEndpointCheck(t *testing.T) {
	base := Endpoint{Name: "n", Host: "127.0.0.1", Username: "u", Password: "p", CipherSuite: 3}
	cases := []struct {
		name string
		mut  func(*Endpoint)
		want error
	}{
		{"valid suite 3", func(*Endpoint) {}, nil},
		{"valid suite 17", func(e *Endpoint) { e.CipherSuite = 17 }, nil},
		{"suite 0 (no auth)", func(e *Endpoint) { e.CipherSuite = 0 }, ErrInsecure},
		{"suite 1", func(e *Endpoint) { e.CipherSuite = 1 }, ErrInsecure},
		{"suite 2 (no encryption)", func(e *Endpoint) { e.CipherSuite = 2 }, ErrInsecure},
		{"suite 4 (RC4)", func(e *Endpoint) { e.CipherSuite = 4 }, ErrInsecure},
		{"suite 15", func(e *Endpoint) { e.CipherSuite = 15 }, ErrInsecure},
		{"suite 16", func(e *Endpoint) { e.CipherSuite = 16 }, ErrInsecure},
		{"negative suite", func(e *Endpoint) { e.CipherSuite = -3 }, ErrInsecure},
		{"no host", func(e *Endpoint) { e.Host = "" }, ErrUnreachable},
		{"bad port", func(e *Endpoint) { e.Port = 70000 }, ErrUnreachable},
		{"long user", func(e *Endpoint) { e.Username = strings.Repeat("u", 17) }, ErrAuth},
		{"long password", func(e *Endpoint) { e.Password = strings.Repeat("p", 21) }, ErrAuth},
		{"bad privilege", func(e *Endpoint) { e.Privilege = 9 }, ErrAuth},
		{"20-byte password", func(e *Endpoint) { e.Password = strings.Repeat("p", 20) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep := base
			c.mut(&ep)
			err := ep.check()
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("check() = %v, want %v", err, c.want)
			}
		})
	}
}

func TestPrivilege(t *testing.T) {
	cases := []struct {
		p    Privilege
		want string
	}{{0, "operator"}, {PrivUser, "user"}, {PrivOperator, "operator"}, {PrivAdministrator, "administrator"}, {7, "invalid(7)"}}
	for _, c := range cases {
		if got := c.p.String(); got != c.want {
			t.Errorf("Privilege(%d).String() = %q, want %q", int(c.p), got, c.want)
		}
	}
}

func TestErrorSentinels(t *testing.T) {
	for k := KindUnreachable; k <= KindCanceled; k++ {
		e := newError("n", k, "m", errors.New("cause"))
		if !errors.Is(e, k.sentinel()) {
			t.Errorf("%v does not match its sentinel", k)
		}
		for k2 := KindUnreachable; k2 <= KindCanceled; k2++ {
			if k2 != k && errors.Is(e, k2.sentinel()) {
				t.Errorf("%v matches the sentinel of %v", k, k2)
			}
		}
		if e.Error() != "ipmi: n: m: cause" {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}
