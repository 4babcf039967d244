package redfish

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/bmcgate/bmcgate/proxy/bmctls"
)

// Endpoint describes one BMC's Redfish service and how to log in to it.
//
// Endpoint redacts Password in every formatted form (all fmt verbs and
// log/slog), so it may be logged as a whole.
type Endpoint struct {
	Name     string        // canonical BMC name (for errors and logs)
	URL      string        // https://HOST[:PORT], no path: the service root is URL + /redfish/v1/
	TLS      bmctls.Verify // exactly one of pin, CA bundle, flagged opt-out
	Username string
	Password string // never logged or printed

	// SystemID, ManagerID and ChassisID pick the ComputerSystem, Manager
	// and Chassis members (their Id); empty means the only member of the
	// collection, or the one the system links to.
	SystemID  string
	ManagerID string
	ChassisID string
}

const redacted = "<redacted>"

func (ep Endpoint) maskedPassword() string {
	if ep.Password == "" {
		return ""
	}
	return redacted
}

// String returns a one-line description without the password.
func (ep Endpoint) String() string {
	return fmt.Sprintf("%s (%s user=%q)", ep.Name, ep.URL, ep.Username)
}

// GoString returns a Go-syntax form with the password redacted.
func (ep Endpoint) GoString() string {
	return fmt.Sprintf("redfish.Endpoint{Name:%q, URL:%q, Username:%q, Password:%q, SystemID:%q, ManagerID:%q, ChassisID:%q}",
		ep.Name, ep.URL, ep.Username, ep.maskedPassword(), ep.SystemID, ep.ManagerID, ep.ChassisID)
}

// Format implements fmt.Formatter so that no verb can print the password.
func (ep Endpoint) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && (f.Flag('#') || f.Flag('+')):
		_, _ = f.Write([]byte(ep.GoString()))
	case verb == 'q':
		_, _ = f.Write([]byte(strconv.Quote(ep.String())))
	default:
		_, _ = f.Write([]byte(ep.String()))
	}
}

// LogValue implements slog.LogValuer; the password is never included.
func (ep Endpoint) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", ep.Name),
		slog.String("url", ep.URL),
		slog.String("user", ep.Username),
	)
}

// target is a checked Endpoint's base URL.
type target struct {
	base *url.URL // https://host:port
	host string   // host name without port, lower case
}

// check validates ep before anything is sent.
func (ep Endpoint) check() (*target, error) {
	bad := func(msg string, cause error) (*target, error) {
		return nil, newError(ep.Name, KindConfig, msg, cause)
	}
	u, err := url.Parse(ep.URL)
	if err != nil {
		return bad("bad Redfish URL", nil)
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("the Redfish URL must be https://HOST[:PORT] with no path, user, query or fragment", nil)
	}
	port := 443
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return bad("bad port in the Redfish URL", nil)
		}
	}
	if err := ep.TLS.Check(); err != nil {
		return bad("TLS verification", err)
	}
	if ep.Username == "" {
		return bad("no Redfish user name configured", nil)
	}
	if len(ep.Username) > 256 || len(ep.Password) > 256 {
		return bad("user name or password longer than 256 bytes", nil)
	}
	for _, id := range []string{ep.SystemID, ep.ManagerID, ep.ChassisID} {
		if strings.ContainsAny(id, "/?#%") || len(id) > 128 {
			return bad("a resource id may not contain '/', '?', '#' or '%'", nil)
		}
	}
	host := strings.ToLower(u.Hostname())
	return &target{
		base: &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))},
		host: host,
	}, nil
}

// fingerprint identifies the connection-relevant parts of ep; a warm
// session is reused only for an identical fingerprint. The password is
// represented by a keyed digest so the fingerprint holds no secret.
func (ep Endpoint) fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ep.Password))
	return fmt.Sprintf("%s|%s|%s|%t|%s|%s|%s|%s|%s|%x", ep.Name, ep.URL,
		strings.ToLower(strings.ReplaceAll(ep.TLS.PinSHA256, ":", "")), ep.TLS.InsecureSkipVerifyDangerous,
		ep.TLS.ServerName, ep.Username, ep.SystemID, ep.ManagerID, ep.ChassisID, m.Sum(nil))
}
