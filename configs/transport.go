package configs

import (
	"crypto/x509"
	"net"
	"strings"
)

// Values of bmcs[i].protocol and bmc_defaults.protocol: how commands
// (power, info, sensors, event log, boot device) reach a BMC.
const (
	ProtocolIPMI    = "ipmi"
	ProtocolRedfish = "redfish"
)

// Limits of the Redfish section.
const (
	maxRedfishSecret = 256 // user name and password, the broker's bound
	maxRedfishID     = 128
)

// BMCDefaults are fleet-wide defaults for the bmcs entries.
type BMCDefaults struct {
	// Protocol is the protocol of BMCs that name none: "ipmi" (default) or
	// "redfish".
	Protocol string `yaml:"protocol"`
}

// BMCRedfish is how the gateway reaches a BMC's Redfish service.
//
// The section may be left out for a BMC whose protocol is ipmi. For a
// Redfish BMC every field has a default except the certificate
// verification, which is taken from the web section when that has one.
type BMCRedfish struct {
	// URL is the service's origin, https://HOST[:PORT] (the service root is
	// URL + /redfish/v1/); default https://<the address's host>.
	URL string `yaml:"url"`
	// TLS is how the service's certificate is verified: exactly one of a
	// pin, a CA file or the flagged opt-out, as for the web UI. Default:
	// the web section's.
	TLS BMCWebTLS `yaml:"tls"`
	// Username and one of PasswordFile, PasswordEnv and Password are the
	// gateway's Redfish account. Without a username, the ipmi section's
	// account is used (BMC accounts are shared between IPMI and Redfish).
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	Password     Secret `yaml:"password"`
	// SystemID, ManagerID and ChassisID pick members of the Systems,
	// Managers and Chassis collections by Id; empty means discovered from
	// the service root (the only member, or the one the system links to).
	SystemID  string `yaml:"system_id"`
	ManagerID string `yaml:"manager_id"`
	ChassisID string `yaml:"chassis_id"`

	caPool   *x509.CertPool
	password Secret
	enabled  bool
}

// Enabled reports whether the gateway may talk Redfish to the BMC: its
// protocol is redfish, or it has a redfish section.
func (r BMCRedfish) Enabled() bool { return r.enabled }

// CAPool returns the certificates of TLS.CAFile, read at load time (nil
// when there is no CA file or the config was loaded with SkipSecrets).
func (r BMCRedfish) CAPool() *x509.CertPool { return r.caPool }

// RedfishPassword returns the Redfish password resolved at load time (the
// ipmi section's when the redfish section names no account). It is the
// zero Secret when the config was loaded with LoadOptions.SkipSecrets.
func (b BMC) RedfishPassword() Secret { return b.Redfish.password }

// bmcDefaults checks the fleet defaults; it runs before the BMCs.
func (v *validator) bmcDefaults() {
	d := &v.c.BMCDefaults
	switch d.Protocol {
	case "":
		if v.present("bmc_defaults.protocol") {
			v.probs.add("bmc_defaults.protocol", "must not be empty: use ipmi or redfish")
		}
		d.Protocol = ProtocolIPMI
	case ProtocolIPMI, ProtocolRedfish:
	default:
		v.probs.add("bmc_defaults.protocol", "unknown protocol: use ipmi or redfish")
		d.Protocol = ProtocolIPMI
	}
}

// protocol fills in a BMC's protocol and decides whether its ipmi section
// is used.
func (v *validator) protocol(field string, b *BMC) {
	pf := fieldPath(field, "protocol")
	switch b.Protocol {
	case "":
		if v.present(pf) {
			v.probs.add(pf, "must not be empty: use ipmi or redfish (or leave it out for bmc_defaults.protocol)")
		}
		b.Protocol = v.c.BMCDefaults.Protocol
	case ProtocolIPMI, ProtocolRedfish:
	default:
		v.probs.add(pf, "unknown protocol: use ipmi or redfish")
	}
	// An IPMI BMC always has IPMI settings (a missing section is reported
	// by ipmi); a Redfish BMC has them only when the file gives them.
	b.hasIPMI = b.Protocol != ProtocolRedfish || v.present(fieldPath(field, "ipmi"))
}

// redfish checks a BMC's Redfish section and fills in its defaults.
func (v *validator) redfish(field string, b *BMC) {
	r := &b.Redfish
	r.enabled = b.Protocol == ProtocolRedfish || v.present(field)
	if !r.enabled {
		return
	}
	f := func(name string) string { return fieldPath(field, name) }

	switch {
	case r.URL != "":
		if _, msg := checkWebURL(r.URL); msg != "" {
			v.probs.add(f("url"), "%s", msg)
		}
		r.URL = strings.TrimSuffix(r.URL, "/")
	case v.present(f("url")):
		v.probs.add(f("url"), "must not be empty: leave it out for https://<the address's host>")
	default:
		if host, _, err := net.SplitHostPort(b.Address); err == nil {
			r.URL = "https://" + bracketHost(host)
		}
	}

	switch {
	case v.present(f("tls")):
		r.caPool = v.tlsVerify(f("tls"), &r.TLS)
	case b.WebUI.Enabled():
		r.TLS, r.caPool = b.WebUI.TLS, b.WebUI.caPool
	default:
		v.probs.add(f("tls"), "required: set one of pin_sha256 (see \"bmcgate pin\"), ca_file or insecure_skip_verify_dangerous, or give the BMC a web section whose tls applies")
	}

	for _, id := range []struct {
		name string
		val  string
	}{{"system_id", r.SystemID}, {"manager_id", r.ManagerID}, {"chassis_id", r.ChassisID}} {
		switch {
		case id.val == "" && v.present(f(id.name)):
			v.probs.add(f(id.name), "must not be empty: leave it out to discover it")
		case len(id.val) > maxRedfishID:
			v.probs.add(f(id.name), "longer than %d bytes", maxRedfishID)
		case strings.ContainsAny(id.val, "/?#%\\") || strings.IndexFunc(id.val, func(c rune) bool { return c < 0x21 || c == 0x7f }) >= 0:
			v.probs.add(f(id.name), "a resource Id may not contain '/', '?', '#', '%%', '\\\\', spaces or control characters")
		}
	}

	v.redfishAccount(field, b)
}

// redfishAccount resolves the gateway's Redfish account: the section's
// own, or the ipmi section's.
func (v *validator) redfishAccount(field string, b *BMC) {
	r := &b.Redfish
	f := func(name string) string { return fieldPath(field, name) }
	own := r.Username != "" || r.PasswordFile != "" || r.PasswordEnv != "" || !r.Password.IsZero() || v.present(f("password"))
	switch {
	case own && r.Username == "":
		v.probs.add(f("username"), "required with a Redfish password")
		return
	case own:
		if len(r.Username) > maxRedfishSecret {
			v.probs.add(f("username"), "longer than %d bytes", maxRedfishSecret)
		}
		r.PasswordFile, r.password = v.passwordSource(field, passwordFields{r.PasswordFile, r.PasswordEnv, r.Password}, maxRedfishSecret, "the limit for Redfish")
	case b.hasIPMI:
		r.Username, r.password = b.IPMI.Username, b.password
	default:
		v.probs.add(f("username"), "required: the gateway's Redfish account (username and one of password_file, password_env or password), or an ipmi section whose account the Redfish service shares")
	}
}

// bracketHost writes an IPv6 address in brackets for a URL.
func bracketHost(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
