package bmcsim

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// The DMTF public-rackmount1 mockup, unmodified (BSD 3-Clause, see its
// LICENSE.md): the shape of every resource the simulated Redfish service
// serves.
//
//go:embed dmtf/public-rackmount1
var mockupFS embed.FS

const mockupRoot = "dmtf/public-rackmount1"

// The mockup's resource ids, kept so the shape stays the DMTF's.
const (
	systemID  = "437XR1138R2"
	managerID = "BMC"
	chassisID = "1U"

	rfRoot   = "/redfish/v1"
	sysPath  = rfRoot + "/Systems/" + systemID
	mgrPath  = rfRoot + "/Managers/" + managerID
	chasPath = rfRoot + "/Chassis/" + chassisID
)

var (
	mockupOnce sync.Once
	mockupTree map[string]map[string]any
	mockupErr  error
)

// loadMockup parses the embedded mockup once; the result is shared
// read-only by every simulated BMC (resources are copied before changes).
func loadMockup() (map[string]map[string]any, error) {
	mockupOnce.Do(func() {
		tree := map[string]map[string]any{}
		mockupErr = fs.WalkDir(mockupFS, mockupRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Base(p) != "index.json" {
				return err
			}
			b, err := mockupFS.ReadFile(p)
			if err != nil {
				return err
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("mockup %s: %w", p, err)
			}
			delete(v, "@Redfish.Copyright")
			rel := strings.TrimSuffix(strings.TrimPrefix(path.Dir(p), mockupRoot), "/")
			tree[rfRoot+rel] = v
			return nil
		})
		mockupTree = tree
	})
	return mockupTree, mockupErr
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// static returns a copy of a mockup resource.
func (r *Redfish) static(p string) (map[string]any, bool) {
	v, ok := r.tree[p]
	if !ok {
		return nil, false
	}
	return deepCopy(v).(map[string]any), true
}

func odataLink(p string) map[string]any { return map[string]any{"@odata.id": p} }

func collectionOf(p, typ, name string, members []string) map[string]any {
	ms := make([]any, 0, len(members))
	for _, m := range members {
		ms = append(ms, odataLink(m))
	}
	return map[string]any{
		"@odata.id": p, "@odata.type": "#" + typ + "." + typ, "Name": name,
		"Members": ms, "Members@odata.count": len(ms),
	}
}

// expand replaces a collection's member links with the members
// ($expand=.($levels=1) and friends).
func (r *Redfish) expand(res map[string]any) {
	ms, ok := res["Members"].([]any)
	if !ok {
		return
	}
	for i, m := range ms {
		l, ok := m.(map[string]any)
		if !ok {
			continue
		}
		id, _ := l["@odata.id"].(string)
		if full, ok := r.get(id); ok {
			ms[i] = full
		}
	}
}

// etagOf is a weak ETag over a resource's content.
func etagOf(res map[string]any) string {
	delete(res, "@odata.etag")
	b, _ := json.Marshal(res)
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}
