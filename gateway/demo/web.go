package demo

import (
	"encoding/base32"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmcgate/bmcgate/gateway/web/breakglass"
	"github.com/bmcgate/bmcgate/internal/datadir"
	"github.com/bmcgate/bmcgate/internal/demoop"
	qrcode "github.com/skip2/go-qrcode"
)

// webUser is a demo account at the demo's OpenID provider: a person in a
// provider group that the demo config maps to a role.
type webUser struct{ name, group, role, password string }

// breakGlassUser is the demo's break-glass account.
const breakGlassUser = "breakglass"

// webDemo is the demo's web door: its address, the embedded provider, the
// demo accounts and the break-glass account's secrets.
type webDemo struct {
	addr, base   string
	op           *demoop.Provider
	users        []webUser
	secretFile   string // the gateway's client secret at the provider
	bgPassword   string
	bgHash       string
	bgTOTPFile   string
	bgOTPAuthURI string
}

// startWebDemo picks the web door's address, writes the break-glass
// account's TOTP secret and the client secret into the data directory and
// starts the demo OpenID provider on a free loopback port.
func startWebDemo(o Options) (*webDemo, error) {
	addr, note, err := demoListenAddr("HTTPS", o.HTTPSAddr)
	if err != nil {
		return nil, err
	}
	if note != "" {
		fmt.Fprintln(o.Out, note)
	}
	wd := &webDemo{addr: addr, base: "https://" + addr}
	for _, u := range demoUsers {
		wd.users = append(wd.users, webUser{name: u.name, group: "demo-" + u.role + "s", role: u.role, password: randomHex(6)})
	}
	secrets := filepath.Join(o.DataDir, datadir.SecretsDir)
	clientSecret := randomHex(16)
	wd.secretFile = filepath.Join(secrets, "web-client-secret")
	if err := os.WriteFile(wd.secretFile, []byte(clientSecret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write demo client secret: %w", err)
	}
	if err := wd.breakGlass(secrets); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo OpenID provider: %w", err)
	}
	var us []demoop.User
	for _, u := range wd.users {
		us = append(us, demoop.User{Username: u.name, Password: u.password, Groups: []string{u.group}})
	}
	wd.op, err = demoop.Start(ln, demoop.Client{ID: "bmcgate", Secret: clientSecret, RedirectURIs: []string{wd.base + "/auth/callback"}}, us, o.Logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return wd, nil
}

// breakGlass makes the break-glass account: a random password (hashed
// with argon2id for the config) and a TOTP secret in secrets.
func (wd *webDemo) breakGlass(secrets string) error {
	wd.bgPassword = randomHex(8)
	h, err := breakglass.HashPassword([]byte(wd.bgPassword), breakglass.DefaultParams)
	if err != nil {
		return fmt.Errorf("demo break-glass account: %w", err)
	}
	key, _, err := breakglass.NewKey()
	if err != nil {
		return fmt.Errorf("demo break-glass account: %w", err)
	}
	wd.bgHash = h
	wd.bgTOTPFile = filepath.Join(secrets, "totp-"+breakGlassUser)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	if err := os.WriteFile(wd.bgTOTPFile, []byte(b32+"\n"), 0o600); err != nil {
		return fmt.Errorf("write demo TOTP secret: %w", err)
	}
	wd.bgOTPAuthURI = breakglass.OTPAuthURI("bmcgate-demo", breakGlassUser, key)
	return nil
}

func (wd *webDemo) close() {
	if wd != nil && wd.op != nil {
		_ = wd.op.Close()
	}
}

// config is the web door's part of the demo config: the HTTPS listener,
// single sign-on through the demo provider with its groups mapped to the
// demo roles, and the break-glass account. Nothing without the web door.
func (wd *webDemo) config() string {
	if wd == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "web:\n  public_url: %q\n  proxy_domain: localhost\n  oidc:\n    issuer: %q\n    client_id: bmcgate\n    client_secret_file: %q\n    group_roles:\n",
		wd.base, wd.op.Issuer(), wd.secretFile)
	for _, u := range wd.users {
		fmt.Fprintf(&b, "      %s: [%s]\n", u.group, u.role)
	}
	fmt.Fprintf(&b, "  break_glass:\n    - name: %s\n      password_hash: %q\n      totp_secret_file: %q\n      roles: [admin]\n",
		breakGlassUser, wd.bgHash, wd.bgTOTPFile)
	return b.String()
}

// listen is the listen.https line of the demo config (indented under
// listen:), or nothing without the web door.
func (wd *webDemo) listen() string {
	if wd == nil {
		return ""
	}
	return fmt.Sprintf("  https: %q\n", wd.addr)
}

func (wd *webDemo) printHelp(w io.Writer, fleet []demoBMC) {
	if wd == nil {
		return
	}
	fmt.Fprintf(w, "\nWeb door: %s (self-signed certificate: your browser asks to accept it)\n", wd.base)
	fmt.Fprintf(w, "Sign in with single sign-on at the demo's OpenID provider (%s):\n", wd.op.Issuer())
	for _, u := range wd.users {
		fmt.Fprintf(w, "  user %-9s password %s   (group %s: role %s)\n", u.name, u.password, u.group, u.role)
	}
	var ui []string // BMCs with a web UI of their own
	for _, f := range fleet {
		if f.webUI {
			ui = append(ui, f.name)
		}
	}
	fmt.Fprintf(w, "Try: the dashboard as admin, a BMC's page (sensors, event log, power, boot, media), the audit page as auditor")
	if len(ui) > 0 {
		fmt.Fprintf(w, ", and \"Open web UI\" on %s (its own web UI and KVM through the gateway)", strings.Join(ui, ", "))
	}
	fmt.Fprintf(w, ".\n")
	fmt.Fprintf(w, "\nBreak-glass login (\"Break-glass login\" on the sign-in page, for when the provider is down):\n")
	fmt.Fprintf(w, "  user %s password %s and a code from an authenticator app (SHA-1, 6 digits, 30 s)\n", breakGlassUser, wd.bgPassword)
	fmt.Fprintf(w, "  TOTP secret: %s\n", wd.bgOTPAuthURI)
	if q, err := qrcode.New(wd.bgOTPAuthURI, qrcode.Medium); err == nil {
		fmt.Fprint(w, q.ToSmallString(false))
	}
}
