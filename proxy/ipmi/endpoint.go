package ipmi

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/bougou/go-ipmi/pkg/types"
)

// Privilege is the IPMI session privilege requested from a BMC.
type Privilege int

// Session privileges. The zero value means PrivOperator.
const (
	PrivUser Privilege = iota + 1
	PrivOperator
	PrivAdministrator
)

// String returns "user", "operator" or "administrator".
func (p Privilege) String() string {
	switch p.orDefault() {
	case PrivUser:
		return "user"
	case PrivOperator:
		return "operator"
	case PrivAdministrator:
		return "administrator"
	}
	return "invalid(" + strconv.Itoa(int(p)) + ")"
}

func (p Privilege) orDefault() Privilege {
	if p == 0 {
		return PrivOperator
	}
	return p
}

// level maps p to the wire privilege level.
func (p Privilege) level() types.PrivilegeLevel {
	switch p.orDefault() {
	case PrivUser:
		return types.PrivilegeLevelUser
	case PrivAdministrator:
		return types.PrivilegeLevelAdministrator
	}
	return types.PrivilegeLevelOperator
}

// DefaultPort is the standard RMCP port.
const DefaultPort = 623

// Endpoint describes one BMC and how to log in to it.
//
// Endpoint redacts Password in every formatted form (all fmt verbs and
// log/slog), so it may be logged as a whole.
type Endpoint struct {
	Name        string // canonical BMC name (for errors/logs)
	Host        string
	Port        int // 0 means 623
	Username    string
	Password    string    // never logged or printed
	CipherSuite int       // 3 or 17 only
	Privilege   Privilege // zero means PrivOperator
}

const redacted = "<redacted>"

func (ep Endpoint) port() int {
	if ep.Port == 0 {
		return DefaultPort
	}
	return ep.Port
}

// Addr returns host:port.
func (ep Endpoint) Addr() string {
	return net.JoinHostPort(ep.Host, strconv.Itoa(ep.port()))
}

func (ep Endpoint) maskedPassword() string {
	if ep.Password == "" {
		return ""
	}
	return redacted
}

// String returns a one-line description without the password.
func (ep Endpoint) String() string {
	return fmt.Sprintf("%s (%s user=%q suite=%d priv=%s)",
		ep.Name, ep.Addr(), ep.Username, ep.CipherSuite, ep.Privilege)
}

// GoString returns a Go-syntax form with the password redacted.
func (ep Endpoint) GoString() string {
	return fmt.Sprintf("ipmi.Endpoint{Name:%q, Host:%q, Port:%d, Username:%q, Password:%q, CipherSuite:%d, Privilege:%d}",
		ep.Name, ep.Host, ep.Port, ep.Username, ep.maskedPassword(), ep.CipherSuite, int(ep.Privilege))
}

// Format implements fmt.Formatter so that no verb can print the password.
func (ep Endpoint) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = f.Write([]byte(ep.GoString()))
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "{Name:%s Host:%s Port:%d Username:%s Password:%s CipherSuite:%d Privilege:%s}",
			ep.Name, ep.Host, ep.Port, ep.Username, ep.maskedPassword(), ep.CipherSuite, ep.Privilege)
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
		slog.String("addr", ep.Addr()),
		slog.String("user", ep.Username),
		slog.Int("cipher_suite", ep.CipherSuite),
		slog.String("privilege", ep.Privilege.String()),
	)
}

// named returns ep with Name defaulting to the address.
func (ep Endpoint) named() Endpoint {
	if ep.Name == "" {
		ep.Name = ep.Addr()
	}
	return ep
}

// check validates ep before any packet is sent.
func (ep Endpoint) check() error {
	if _, ok := suiteAlgorithms(ep.CipherSuite); !ok {
		return newError(ep.Name, KindInsecure,
			fmt.Sprintf("cipher suite %d is not allowed (only 3 and 17)", ep.CipherSuite), nil)
	}
	if ep.Host == "" {
		return newError(ep.Name, KindUnreachable, "no BMC address configured", nil)
	}
	if ep.Port < 0 || ep.Port > 65535 {
		return newError(ep.Name, KindUnreachable, "invalid BMC port", nil)
	}
	if len(ep.Username) > 16 {
		return newError(ep.Name, KindAuth, "user name longer than 16 bytes", nil)
	}
	if len(ep.Password) > 20 {
		return newError(ep.Name, KindAuth, "password longer than 20 bytes", nil)
	}
	switch ep.Privilege.orDefault() {
	case PrivUser, PrivOperator, PrivAdministrator:
	default:
		return newError(ep.Name, KindAuth, "invalid privilege level", nil)
	}
	return nil
}

// fingerprint identifies the connection-relevant parts of ep; a warm session
// is only reused for an identical fingerprint. The password is represented
// by a keyed digest so the fingerprint itself holds no secret.
func (ep Endpoint) fingerprint(key []byte) string {
	return fmt.Sprintf("%s|%s|%s|%d|%d|%x", ep.Name, ep.Addr(), ep.Username,
		ep.CipherSuite, ep.Privilege.orDefault(), digest(key, ep.Password))
}
