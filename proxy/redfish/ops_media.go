package redfish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MediaSlot is one virtual media device. Image is what the BMC reports
// inserted, reduced to scheme://host/path (a query or user part, where a
// one-time token would sit, is never shown).
type MediaSlot struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	MediaTypes     []string `json:"media_types"`
	Inserted       bool     `json:"inserted"`
	Image          string   `json:"image,omitempty"`
	ImageName      string   `json:"image_name,omitempty"`
	WriteProtected bool     `json:"write_protected"`
	ConnectedVia   string   `json:"connected_via,omitempty"`
	CanInsert      bool     `json:"can_insert"` // InsertMedia action, or PATCH of Image
}

type mediaDoc struct {
	ID             string `json:"Id"`
	Name           string
	MediaTypes     []string
	Image          json.RawMessage // present (even null) on services that let it be PATCHed
	ImageName      *string
	Inserted       *bool
	WriteProtected *bool
	ConnectedVia   string
	Actions        struct {
		Insert *struct {
			Target     string `json:"target"`
			ActionInfo string `json:"@Redfish.ActionInfo"`
		} `json:"#VirtualMedia.InsertMedia"`
		Eject *struct {
			Target string `json:"target"`
		} `json:"#VirtualMedia.EjectMedia"`
	}
}

// image returns the Image property ("" when absent or null).
func (d *mediaDoc) image() string {
	var s string
	if len(d.Image) == 0 || json.Unmarshal(d.Image, &s) != nil {
		return ""
	}
	return s
}

// redactURL keeps scheme, host and path of a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		return text(s)
	}
	return text((&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String())
}

func (d *mediaDoc) slot() MediaSlot {
	s := MediaSlot{ID: text(d.ID), Name: text(d.Name), MediaTypes: clean(d.MediaTypes), ConnectedVia: text(d.ConnectedVia)}
	if s.MediaTypes == nil {
		s.MediaTypes = []string{}
	}
	if img := d.image(); img != "" {
		s.Image = redactURL(img)
	}
	if d.ImageName != nil {
		s.ImageName = text(*d.ImageName)
	}
	s.Inserted = d.Inserted != nil && *d.Inserted || (d.Inserted == nil && s.Image != "")
	s.WriteProtected = d.WriteProtected != nil && *d.WriteProtected
	s.CanInsert = d.Actions.Insert != nil || d.Image != nil
	return s
}

// mediaSlots returns the virtual media members of the system (newer
// services) or else of the manager (older ones), with their paths.
func (m *bmc) mediaSlots(ctx context.Context) ([]string, []mediaDoc, error) {
	var coll string
	for _, owner := range []func(context.Context) (string, error){m.systemPath, m.managerPath} {
		op, err := owner(ctx)
		if err != nil {
			if k := KindOf(err); k == KindUnsupported || k == KindConfig {
				continue
			}
			return nil, nil, err
		}
		var d struct{ VirtualMedia link }
		if _, err := m.get(ctx, op, "virtual media owner", &d); err != nil {
			return nil, nil, err
		}
		if d.VirtualMedia.ID != "" {
			if coll, err = m.resolve(d.VirtualMedia.ID); err != nil {
				return nil, nil, err
			}
			break
		}
	}
	if coll == "" {
		return nil, nil, newError(m.name, KindUnsupported, "the BMC offers no virtual media", nil)
	}
	list, err := m.members(ctx, coll, "virtual media")
	if err != nil {
		return nil, nil, err
	}
	docs := make([]mediaDoc, 0, len(list))
	for _, p := range list {
		var d mediaDoc
		if _, err := m.get(ctx, p, "virtual media slot", &d); err != nil {
			return nil, nil, err
		}
		if d.ID == "" {
			d.ID = lastSegment(p)
		}
		docs = append(docs, d)
	}
	return list, docs, nil
}

// Media lists the virtual media slots.
func (b *Broker) Media(ctx context.Context, ep Endpoint) ([]MediaSlot, error) {
	var out []MediaSlot
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		_, docs, err := m.mediaSlots(ctx)
		if err != nil {
			return err
		}
		out = make([]MediaSlot, 0, len(docs))
		for i := range docs {
			out = append(out, docs[i].slot())
		}
		return nil
	})
	return out, err
}

// findSlot picks the slot named id, or (id empty) the first CD/DVD slot.
func (m *bmc) findSlot(ctx context.Context, id string) (string, *mediaDoc, error) {
	paths, docs, err := m.mediaSlots(ctx)
	if err != nil {
		return "", nil, err
	}
	var ids []string
	for i := range docs {
		d := &docs[i]
		ids = append(ids, text(d.ID))
		if id != "" && strings.EqualFold(d.ID, id) {
			return paths[i], d, nil
		}
		if id == "" {
			for _, t := range d.MediaTypes {
				if t == "CD" || t == "DVD" {
					return paths[i], d, nil
				}
			}
		}
	}
	if id == "" {
		return "", nil, newError(m.name, KindUnsupported, "the BMC has no CD/DVD virtual media slot; it has: "+supportsText(ids), nil)
	}
	return "", nil, newError(m.name, KindUnsupported, fmt.Sprintf("the BMC has no virtual media slot %q; it has: %s", printable(id), supportsText(ids)), nil)
}

// InsertMedia makes the BMC attach the image at imageURL (http or https,
// given by the caller, normally a one-time URL served by the gateway) to a
// slot (empty: the first CD/DVD slot), read-only, with
// VirtualMedia.InsertMedia, or a PATCH of Image/Inserted on services
// without the action. The URL never appears in errors or results.
func (b *Broker) InsertMedia(ctx context.Context, ep Endpoint, slot, imageURL string) (MediaSlot, error) {
	var out MediaSlot
	u, err := url.Parse(imageURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(imageURL) > 2048 {
		return out, newError(ep.Name, KindConfig, "the image URL must be an absolute http or https URL without user information", nil)
	}
	err = b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		p, d, err := m.findSlot(ctx, slot)
		if err != nil {
			return err
		}
		if s := d.slot(); s.Inserted {
			return newError(m.name, KindBMC, fmt.Sprintf("slot %s already holds media (%s); eject it first", s.ID, s.Image), nil)
		}
		var rq request
		switch {
		case d.Actions.Insert != nil && d.Actions.Insert.Target != "":
			target, err := m.resolve(d.Actions.Insert.Target)
			if err != nil {
				return err
			}
			rq = request{method: http.MethodPost, path: target, write: true,
				body: map[string]any{"Image": imageURL, "Inserted": true, "WriteProtected": true}}
		case d.Image != nil:
			rq = request{method: http.MethodPatch, path: p, write: true,
				body: map[string]any{"Image": imageURL, "Inserted": true, "WriteProtected": true}}
		default:
			return newError(m.name, KindUnsupported, "the BMC's slot "+text(d.ID)+" has no InsertMedia action and no Image to set", nil)
		}
		if _, err := m.write(ctx, rq, "inserting virtual media"); err != nil {
			return scrubURL(err, imageURL)
		}
		out, err = m.readSlot(ctx, p, d.ID)
		return err
	})
	return out, scrubURL(err, imageURL)
}

// EjectMedia ejects the media of a slot (empty: the first CD/DVD slot),
// with VirtualMedia.EjectMedia or a PATCH on services without it.
func (b *Broker) EjectMedia(ctx context.Context, ep Endpoint, slot string) (MediaSlot, error) {
	var out MediaSlot
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		p, d, err := m.findSlot(ctx, slot)
		if err != nil {
			return err
		}
		var rq request
		switch {
		case d.Actions.Eject != nil && d.Actions.Eject.Target != "":
			target, err := m.resolve(d.Actions.Eject.Target)
			if err != nil {
				return err
			}
			rq = request{method: http.MethodPost, path: target, write: true, body: map[string]any{}}
		case d.Image != nil:
			rq = request{method: http.MethodPatch, path: p, write: true,
				body: map[string]any{"Image": nil, "Inserted": false}}
		default:
			return newError(m.name, KindUnsupported, "the BMC's slot "+text(d.ID)+" has no EjectMedia action and no Image to clear", nil)
		}
		if _, err := m.write(ctx, rq, "ejecting virtual media"); err != nil {
			return err
		}
		out, err = m.readSlot(ctx, p, d.ID)
		return err
	})
	return out, err
}

// readSlot reads a slot back after a change.
func (m *bmc) readSlot(ctx context.Context, p, id string) (MediaSlot, error) {
	var d mediaDoc
	if _, err := m.get(ctx, p, "virtual media slot", &d); err != nil {
		return MediaSlot{}, err
	}
	if d.ID == "" {
		d.ID = id
	}
	return d.slot(), nil
}

// scrubURL removes an image URL (and its query) from an error.
func scrubURL(err error, u string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		cp := *e
		cp.Err = scrub(e.Err, u)
		if i := strings.IndexByte(u, '?'); i >= 0 {
			cp.Err = scrub(cp.Err, u[i:])
		}
		return &cp
	}
	return err
}
