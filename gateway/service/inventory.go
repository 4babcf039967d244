package service

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/bmcssh"
	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// BMC is one entry of the inventory: what policy sees (name, labels) and
// what the transport needs (the endpoint, with the credentials the gateway holds).
type BMC struct {
	Name     string
	Address  string // host:port as configured, shown to users
	Labels   map[string]string
	Endpoint ipmi.Endpoint // how IPMI reaches the BMC (IPMITransport, the console's SOL line, the scanner)
	WebURL   string        // the BMC's own web interface, "" when none is configured
	// Transport reaches this BMC for brokered operations; nil means the
	// service's own (the one given to New), or the Redfish transport for
	// a BMC whose Protocol is ProtocolRedfish.
	Transport Transport
	// Protocol is how commands reach the BMC: ProtocolIPMI ("" too) or
	// ProtocolRedfish; Redfish is its Redfish service.
	Protocol string
	Redfish  redfish.Endpoint
	// SSHConsole is the BMC's SSH console service when the console goes
	// through it (console.via: ssh); nil means Serial-over-LAN, and
	// NoConsole no console at all.
	SSHConsole *bmcssh.Target
	NoConsole  bool
}

// protocol names the BMC's protocol for output.
func (b *BMC) protocol() string {
	if b.Protocol == ProtocolRedfish {
		return ProtocolRedfish
	}
	return ProtocolIPMI
}

// ShownAddress is where commands reach the BMC, as users see it: the
// Redfish service's base URL for a Redfish BMC, the configured host:port
// otherwise (a Redfish-only BMC's IPMI address is never used).
func (b *BMC) ShownAddress() string {
	if b.Protocol == ProtocolRedfish && b.Redfish.URL != "" {
		return b.Redfish.URL
	}
	return b.Address
}

// Target is the policy view of the BMC.
func (b *BMC) Target() authz.Target {
	return authz.Target{Name: b.Name, Labels: b.Labels}
}

// LabelString renders the labels as "k=v,k=v" in key order.
func (b *BMC) LabelString() string {
	keys := make([]string, 0, len(b.Labels))
	for k := range b.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + b.Labels[k]
	}
	return strings.Join(parts, ",")
}

// Inventory is an immutable, name-sorted set of BMCs.
type Inventory struct {
	list   []*BMC
	byName map[string]*BMC
}

// NewInventory builds an inventory. Names must be canonical and unique.
func NewInventory(bmcs []*BMC) (*Inventory, error) {
	inv := &Inventory{byName: make(map[string]*BMC, len(bmcs))}
	for _, b := range bmcs {
		name, err := authz.CanonicalName(b.Name)
		if err != nil || name != b.Name {
			return nil, fmt.Errorf("inventory: BMC name %q is not canonical", b.Name)
		}
		if _, dup := inv.byName[name]; dup {
			return nil, fmt.Errorf("inventory: duplicate BMC %q", name)
		}
		inv.byName[name] = b
		inv.list = append(inv.list, b)
	}
	sort.Slice(inv.list, func(i, j int) bool { return inv.list[i].Name < inv.list[j].Name })
	return inv, nil
}

// All returns the BMCs in name order. The slice must not be modified.
func (inv *Inventory) All() []*BMC { return inv.list }

// Len is the number of BMCs.
func (inv *Inventory) Len() int { return len(inv.list) }

// Lookup finds a BMC by a user-typed name, canonicalizing it first.
func (inv *Inventory) Lookup(name string) (*BMC, bool) {
	c, err := authz.CanonicalName(name)
	if err != nil {
		return nil, false
	}
	b, ok := inv.byName[c]
	return b, ok
}

// errNoSelector is returned when a command needs targets and none were given.
var errNoSelector = errors.New("no target given")

// selectorSet is a parsed list of user-typed selectors.
type selectorSet struct {
	sels []authz.Selector
	raw  []string
}

// parseSelectors parses user-typed selectors. It reports the first bad one
// with a plain message.
func parseSelectors(raw []string) (selectorSet, error) {
	if len(raw) == 0 {
		return selectorSet{}, errNoSelector
	}
	set := selectorSet{raw: raw}
	for _, r := range raw {
		s, err := authz.ParseSelector(r)
		if err != nil {
			return selectorSet{}, &UserError{Msg: fmt.Sprintf("bad target %s: %v", quote(r), err)}
		}
		set.sels = append(set.sels, s)
	}
	return set, nil
}
