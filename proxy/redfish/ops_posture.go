package redfish

import (
	"context"
	"encoding/json"
	"sort"
)

// Protocol is one network service of the BMC (ManagerNetworkProtocol).
// Enabled is nil when the BMC does not say.
type Protocol struct {
	Enabled *bool `json:"enabled,omitempty"`
	Port    int   `json:"port,omitempty"`
}

// NetworkProtocols returns the BMC's network services by Redfish name
// (IPMI, HTTP, HTTPS, SSH, SSDP, Telnet, SNMP, KVMIP, VirtualMedia, …).
func (b *Broker) NetworkProtocols(ctx context.Context, ep Endpoint) (map[string]Protocol, error) {
	out := map[string]Protocol{}
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		mp, err := m.managerPath(ctx)
		if err != nil {
			return err
		}
		var mgr struct{ NetworkProtocol link }
		if _, err := m.get(ctx, mp, "manager", &mgr); err != nil {
			return err
		}
		if mgr.NetworkProtocol.ID == "" {
			return newError(m.name, KindUnsupported, "the BMC's manager has no network protocol settings", nil)
		}
		p, err := m.resolve(mgr.NetworkProtocol.ID)
		if err != nil {
			return err
		}
		var doc map[string]json.RawMessage
		if _, err := m.get(ctx, p, "network protocol settings", &doc); err != nil {
			return err
		}
		for name, raw := range doc {
			var v struct {
				ProtocolEnabled *bool
				Port            *int
			}
			if len(name) > 64 || json.Unmarshal(raw, &v) != nil || (v.ProtocolEnabled == nil && v.Port == nil) {
				continue
			}
			pr := Protocol{Enabled: v.ProtocolEnabled}
			if v.Port != nil {
				pr.Port = *v.Port
			}
			out[text(name)] = pr
		}
		return nil
	})
	return out, err
}

// serviceMembers returns the member paths of the collection named field
// in the service the root links to (UpdateService → FirmwareInventory,
// AccountService → Accounts).
func (m *bmc) serviceMembers(ctx context.Context, svc func(*serviceRoot) link, svcWhat, field, collWhat string) ([]string, error) {
	root, err := m.serviceRoot(ctx)
	if err != nil {
		return nil, err
	}
	if svc(root).ID == "" {
		return nil, newError(m.name, KindUnsupported, "the BMC has no "+svcWhat, nil)
	}
	sp, err := m.resolve(svc(root).ID)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if _, err := m.get(ctx, sp, svcWhat, &doc); err != nil {
		return nil, err
	}
	var l link
	if raw, ok := doc[field]; !ok || json.Unmarshal(raw, &l) != nil || l.ID == "" {
		return nil, newError(m.name, KindUnsupported, "the BMC has no "+collWhat, nil)
	}
	cp, err := m.resolve(l.ID)
	if err != nil {
		return nil, err
	}
	return m.members(ctx, cp, collWhat)
}

// readAll reads every path into a T; members listed but missing (404) are
// skipped, as some services list what they no longer have.
func readAll[T any](ctx context.Context, m *bmc, paths []string, what string) ([]T, []string, error) {
	out := make([]T, 0, len(paths))
	found := make([]string, 0, len(paths))
	for _, p := range paths {
		var d T
		if _, err := m.get(ctx, p, what, &d); err != nil {
			if KindOf(err) == KindUnsupported {
				continue
			}
			return nil, nil, err
		}
		out = append(out, d)
		found = append(found, p)
	}
	return out, found, nil
}

// Firmware is one entry of the firmware inventory.
type Firmware struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Version    string `json:"version"`
	Updateable bool   `json:"updateable"`
}

// FirmwareInventory returns UpdateService/FirmwareInventory.
func (b *Broker) FirmwareInventory(ctx context.Context, ep Endpoint) ([]Firmware, error) {
	var out []Firmware
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		list, err := m.serviceMembers(ctx, func(r *serviceRoot) link { return r.UpdateService }, "update service", "FirmwareInventory", "firmware inventory")
		if err != nil {
			return err
		}
		docs, _, err := readAll[struct {
			ID         string `json:"Id"`
			Name       string
			Version    string
			Updateable bool
		}](ctx, m, list, "firmware inventory entry")
		if err != nil {
			return err
		}
		out = make([]Firmware, 0, len(docs))
		for _, d := range docs {
			out = append(out, Firmware{ID: text(d.ID), Name: text(d.Name), Version: text(d.Version), Updateable: d.Updateable})
		}
		return nil
	})
	return out, err
}

// Account is one BMC account (AccountService/Accounts).
type Account struct {
	ID       string `json:"id"`
	UserName string `json:"user_name"`
	RoleID   string `json:"role_id"`
	Enabled  bool   `json:"enabled"`
	Locked   bool   `json:"locked"`
}

// Accounts returns the BMC's local accounts.
func (b *Broker) Accounts(ctx context.Context, ep Endpoint) ([]Account, error) {
	var out []Account
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		list, err := m.serviceMembers(ctx, func(r *serviceRoot) link { return r.AccountService }, "account service", "Accounts", "accounts")
		if err != nil {
			return err
		}
		docs, _, err := readAll[struct {
			ID       string `json:"Id"`
			UserName string
			RoleID   string `json:"RoleId"`
			Enabled  bool
			Locked   bool
		}](ctx, m, list, "account")
		if err != nil {
			return err
		}
		out = make([]Account, 0, len(docs))
		for _, d := range docs {
			out = append(out, Account{ID: text(d.ID), UserName: text(d.UserName), RoleID: text(d.RoleID), Enabled: d.Enabled, Locked: d.Locked})
		}
		return nil
	})
	return out, err
}

// SessionInfo is one session open on the BMC. Own marks the session the
// broker itself holds.
type SessionInfo struct {
	ID       string `json:"id"`
	UserName string `json:"user_name"`
	ClientIP string `json:"client_ip,omitempty"`
	Own      bool   `json:"own"`
}

// Sessions lists the sessions open on the BMC (SessionService/Sessions),
// so that sessions the gateway did not open can be reported.
func (b *Broker) Sessions(ctx context.Context, ep Endpoint) ([]SessionInfo, error) {
	var out []SessionInfo
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		s, err := m.session(ctx, false)
		if err != nil {
			return err
		}
		coll := "/redfish/v1/SessionService/Sessions"
		if root, err := m.serviceRoot(ctx); err == nil && root.Links.Sessions.ID != "" {
			if coll, err = m.resolve(root.Links.Sessions.ID); err != nil {
				return err
			}
		}
		list, err := m.members(ctx, coll, "sessions")
		if err != nil {
			return err
		}
		docs, found, err := readAll[struct {
			ID       string `json:"Id"`
			UserName string
			ClientIP string `json:"ClientOriginIPAddress"`
		}](ctx, m, list, "session")
		if err != nil {
			return err
		}
		out = make([]SessionInfo, 0, len(docs))
		for i, d := range docs {
			if d.ID == "" {
				d.ID = lastSegment(found[i])
			}
			out = append(out, SessionInfo{ID: text(d.ID), UserName: text(d.UserName), ClientIP: text(d.ClientIP),
				Own: s != nil && s.location != "" && pathOnly(found[i]) == pathOnly(s.location)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return nil
	})
	return out, err
}
