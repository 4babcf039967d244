package bmcweb

import (
	"errors"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"https://10.0.0.5", "10.0.0.5", 443, true},
		{"https://10.0.0.5:8443/", "10.0.0.5", 8443, true},
		{"https://[fd00::5]:8443", "fd00::5", 8443, true},
		{"http://10.0.0.5", "", 0, false},
		{"https://10.0.0.5/ui", "", 0, false},
		{"https://root:calvin@10.0.0.5", "", 0, false},
		{"https://10.0.0.5?x=1", "", 0, false},
		{"https://10.0.0.5:70000", "", 0, false},
		{"https://", "", 0, false},
	} {
		host, port, err := ParseURL(c.in)
		if (err == nil) != c.ok || host != c.host || port != c.port {
			t.Errorf("ParseURL(%q) = %q, %d, %v", c.in, host, port, err)
		}
	}
}

func TestResolveHostMode(t *testing.T) {
	for _, c := range []struct {
		mode HostMode
		name string
		want HostMode
		err  error
	}{
		{"", "", HostBMCAddress, nil},
		{HostPassthrough, "", HostPassthrough, nil},
		{HostBMCName, "idrac.example.com", HostBMCName, nil},
		{HostBMCName, "", HostBMCName, ErrNoHostName},
		{"ip", "", "ip", ErrUnknownHostMode},
	} {
		got, err := ResolveHostMode(c.mode, c.name)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("ResolveHostMode(%q, %q) = %q, %v", c.mode, c.name, got, err)
		}
	}
}

func TestCheckExtraHeader(t *testing.T) {
	for name, ok := range map[string]bool{
		"ST2": true, "X-CSRF-Custom": true, "": false, "a b": false,
		"X-Forwarded-For": false, "x_forwarded_for": false, "Remote-User": false, "Alt-Svc": false, "X-Bmcgate-User": false,
	} {
		if err := CheckExtraHeader(name); (err == nil) != ok {
			t.Errorf("CheckExtraHeader(%q) = %v", name, err)
		}
	}
}
