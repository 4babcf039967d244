package redfish

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// link is a Redfish reference.
type link struct {
	ID string `json:"@odata.id"`
}

type serviceRoot struct {
	RedfishVersion string
	UUID           string
	Systems        link
	Chassis        link
	Managers       link
	SessionService link
	AccountService link
	UpdateService  link
	Links          struct {
		Sessions link
	}
	ProtocolFeaturesSupported struct {
		ExpandQuery struct {
			ExpandAll bool
			Levels    bool
			MaxLevels int
		}
	}
}

// expandLevels reports whether the service accepts $expand=.($levels=1).
func (r *serviceRoot) expandLevels() bool {
	e := r.ProtocolFeaturesSupported.ExpandQuery
	return e.ExpandAll || (e.Levels && e.MaxLevels >= 1)
}

type collection struct {
	Members  []link
	NextLink string `json:"Members@odata.nextLink"`
}

// serviceRoot returns the service root, read once per BMC session state.
// It is read without credentials (the specification makes it public) and
// with them when the service insists.
func (m *bmc) serviceRoot(ctx context.Context) (*serviceRoot, error) {
	m.mu.Lock()
	r := m.root
	m.mu.Unlock()
	if r != nil {
		return r, nil
	}
	const p = "/redfish/v1/"
	rq := request{method: http.MethodGet, path: p}
	resp, err := m.send(ctx, rq, nil, false)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusUnauthorized {
		m.mu.Lock()
		have := m.sess != nil || m.basic
		m.mu.Unlock()
		if !have {
			return nil, newError(m.name, KindBMC, "the service root needs a login", nil)
		}
		if resp, err = m.call(ctx, rq); err != nil {
			return nil, err
		}
	}
	if resp.status < 200 || resp.status >= 300 {
		return nil, m.statusError(resp, rq, "Redfish service root")
	}
	r = &serviceRoot{}
	if err := decodeStrict(resp.body, r); err != nil {
		return nil, newError(m.name, KindBMC, msgMalformed, fmt.Errorf("service root: %w", err))
	}
	m.mu.Lock()
	m.root = r
	m.mu.Unlock()
	return r, nil
}

// forgetPaths drops what was discovered, after a discovered resource went
// missing (a BMC firmware update can rename resources).
func (m *bmc) forgetPaths() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.root = nil
	clear(m.paths)
}

func (m *bmc) cachedPath(role string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.paths[role]
}

func (m *bmc) setPath(role, p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paths[role] = p
}

// members reads a collection's member paths (following nextLink pages, at
// most maxMembers).
func (m *bmc) members(ctx context.Context, p, what string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for page := 0; p != "" && page < maxPages; page++ {
		var c collection
		if _, err := m.get(ctx, p, what, &c); err != nil {
			return nil, err
		}
		added := 0
		for _, l := range c.Members {
			mp, err := m.resolve(l.ID)
			if err != nil {
				return nil, err
			}
			if !seen[mp] {
				seen[mp] = true
				out = append(out, mp)
				added++
			}
			if len(out) >= maxMembers {
				return out, nil
			}
		}
		if c.NextLink == "" || added == 0 {
			break
		}
		if p, _ = m.resolve(c.NextLink); p == "" {
			break
		}
	}
	return out, nil
}

// lastSegment returns the unescaped last path segment (a member's Id).
func lastSegment(p string) string {
	p = strings.TrimSuffix(pathOnly(p), "/")
	s := path.Base(p)
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// pick chooses one member of a collection: the one with the configured
// id, else the only one, else the only one the system links to.
func (m *bmc) pick(ctx context.Context, coll link, kind, id string, linked []link) (string, error) {
	if coll.ID == "" {
		return "", newError(m.name, KindUnsupported, "the BMC's service root has no "+kind+" collection", nil)
	}
	cp, err := m.resolve(coll.ID)
	if err != nil {
		return "", err
	}
	list, err := m.members(ctx, cp, kind+" collection")
	if err != nil {
		return "", err
	}
	ids := make([]string, 0, len(list))
	for _, p := range list {
		ids = append(ids, lastSegment(p))
		if id != "" && lastSegment(p) == id {
			return p, nil
		}
	}
	shown := strings.Join(ids, ", ")
	if len(shown) > 300 {
		shown = shown[:300] + "…"
	}
	switch {
	case id != "":
		return "", newError(m.name, KindConfig, fmt.Sprintf("the BMC has no %s %q; it has: %s", kind, id, printable(shown)), nil)
	case len(list) == 1:
		return list[0], nil
	case len(list) == 0:
		return "", newError(m.name, KindUnsupported, "the BMC lists no "+kind, nil)
	}
	if len(linked) == 1 {
		if p, err := m.resolve(linked[0].ID); err == nil {
			return p, nil
		}
	}
	return "", newError(m.name, KindConfig, fmt.Sprintf("the BMC has %d of %s (%s): configure which one", len(list), kind, printable(shown)), nil)
}

type systemLinks struct {
	Links struct {
		Chassis   []link
		ManagedBy []link
	}
}

// systemPath returns the path of the ComputerSystem.
func (m *bmc) systemPath(ctx context.Context) (string, error) {
	if p := m.cachedPath("system"); p != "" {
		return p, nil
	}
	root, err := m.serviceRoot(ctx)
	if err != nil {
		return "", err
	}
	p, err := m.pick(ctx, root.Systems, "system", m.ep.SystemID, nil)
	if err != nil {
		return "", err
	}
	m.setPath("system", p)
	return p, nil
}

// managerPath returns the path of the Manager (the BMC itself).
func (m *bmc) managerPath(ctx context.Context) (string, error) {
	return m.related(ctx, "manager", m.ep.ManagerID, func(r *serviceRoot) link { return r.Managers },
		func(l *systemLinks) []link { return l.Links.ManagedBy })
}

// chassisPath returns the path of the Chassis.
func (m *bmc) chassisPath(ctx context.Context) (string, error) {
	return m.related(ctx, "chassis", m.ep.ChassisID, func(r *serviceRoot) link { return r.Chassis },
		func(l *systemLinks) []link { return l.Links.Chassis })
}

func (m *bmc) related(ctx context.Context, role, id string, coll func(*serviceRoot) link, links func(*systemLinks) []link) (string, error) {
	if p := m.cachedPath(role); p != "" {
		return p, nil
	}
	root, err := m.serviceRoot(ctx)
	if err != nil {
		return "", err
	}
	var linked []link
	if id == "" {
		if sp, err := m.systemPath(ctx); err == nil {
			var sl systemLinks
			if _, err := m.get(ctx, sp, "system", &sl); err == nil {
				linked = links(&sl)
			}
		}
	}
	p, err := m.pick(ctx, coll(root), role, id, linked)
	if err != nil {
		return "", err
	}
	m.setPath(role, p)
	return p, nil
}
