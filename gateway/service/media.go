package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/proxy/media"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// ImageServer is the part of the image listener (proxy/media) core uses:
// one-time URLs for an image, bound to a BMC's addresses.
type ImageServer interface {
	Grant(ctx context.Context, bmc string, addrs []netip.Addr, image string) (media.Grant, error)
	Revoke(bmc string) bool
	Owns(bmc, url string) bool
}

// SetImages installs the image listener (nil: no image library).
func (s *Service) SetImages(is ImageServer) { s.images.Store(&is) }

func (s *Service) imageServer() ImageServer {
	if p := s.images.Load(); p != nil {
		return *p
	}
	return nil
}

// MediaSlotView is a BMC's virtual media slot as front doors show it. The
// image URL of a slot is shown only as "(gateway)" when it is the
// gateway's own one-time URL: those URLs are capabilities.
type MediaSlotView struct {
	redfish.MediaSlot
	Gateway bool `json:"gateway"` // the image is one the gateway serves
}

// MediaInserted is the answer of a successful insert.
type MediaInserted struct {
	Slot  string `json:"slot"`
	Image string `json:"image"`
	Size  int64  `json:"size"`
}

func (m MediaInserted) String() string {
	return fmt.Sprintf("%s inserted in %s (%d bytes)", m.Image, m.Slot, m.Size)
}

// MediaEjected is the answer of a successful eject.
type MediaEjected struct {
	Slot string `json:"slot"`
}

func (m MediaEjected) String() string { return "ejected from " + m.Slot }

var errNoMedia = &UserError{Msg: "virtual media needs a Redfish BMC (protocol: redfish)"}

// mediaTransport is b's transport when it has virtual media.
func (s *Service) mediaTransport(b *BMC) (MediaTransport, error) {
	mt, ok := s.transport(b).(MediaTransport)
	if !ok {
		return nil, errNoMedia
	}
	return mt, nil
}

// Media lists a BMC's virtual media slots.
func (s *Service) Media(ctx context.Context, c Caller, name string) (Result, error) {
	return s.single(ctx, c, authz.MediaRead, name, func(ctx context.Context, b *BMC) (any, error) {
		mt, err := s.mediaTransport(b)
		if err != nil {
			return nil, err
		}
		slots, err := mt.Media(ctx, b)
		if err != nil {
			return nil, err
		}
		is := s.imageServer()
		out := make([]MediaSlotView, len(slots))
		for i, sl := range slots {
			v := MediaSlotView{MediaSlot: sl}
			if sl.Image != "" && is != nil && is.Owns(b.Name, sl.Image) {
				v.Gateway, v.Image = true, "(gateway)"
			}
			out[i] = v
		}
		return out, nil
	})
}

// InsertMedia makes a BMC attach an image of the library: the gateway
// grants a one-time URL bound to the BMC's address and gives the BMC that
// URL, never one a user typed.
func (s *Service) InsertMedia(ctx context.Context, c Caller, name, image, slot string) (Result, error) {
	return s.single(ctx, c, authz.MediaInsert, name, func(ctx context.Context, b *BMC) (any, error) {
		mt, err := s.mediaTransport(b)
		if err != nil {
			return nil, err
		}
		is := s.imageServer()
		if is == nil {
			return nil, &UserError{Msg: "this gateway has no image library (images in the config)"}
		}
		addrs, err := bmcAddrs(ctx, b)
		if err != nil {
			return nil, err
		}
		g, err := is.Grant(ctx, b.Name, addrs, image)
		if err != nil {
			return nil, &UserError{Msg: imageError(image, err), Err: err}
		}
		sl, err := mt.InsertMedia(ctx, b, slot, g.URL)
		if err != nil {
			is.Revoke(b.Name)
			return nil, err
		}
		return MediaInserted{Slot: sl.ID, Image: image, Size: g.Size}, nil
	})
}

// EjectMedia ejects a slot's media and ends the gateway's URL for it.
func (s *Service) EjectMedia(ctx context.Context, c Caller, name, slot string) (Result, error) {
	return s.single(ctx, c, authz.MediaEject, name, func(ctx context.Context, b *BMC) (any, error) {
		mt, err := s.mediaTransport(b)
		if err != nil {
			return nil, err
		}
		sl, err := mt.EjectMedia(ctx, b, slot)
		if is := s.imageServer(); is != nil {
			is.Revoke(b.Name)
		}
		if err != nil {
			return nil, err
		}
		return MediaEjected{Slot: sl.ID}, nil
	})
}

func imageError(image string, err error) string {
	switch {
	case errors.Is(err, media.ErrUnknownImage):
		return fmt.Sprintf("no image %s in the library", quote(image))
	case errors.Is(err, media.ErrChecksum):
		return fmt.Sprintf("image %s does not match its SHA-256: refused", quote(image))
	case errors.Is(err, media.ErrChanged), errors.Is(err, media.ErrUnreadable):
		return fmt.Sprintf("image %s cannot be served: its file is unreadable or changed", quote(image))
	}
	return "the image cannot be granted"
}

// bmcAddrs returns the addresses a BMC fetches images from: its configured
// address, resolved when it is a name.
func bmcAddrs(ctx context.Context, b *BMC) ([]netip.Addr, error) {
	host := b.Address
	if h, _, err := net.SplitHostPort(b.Address); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, &UserError{Msg: "the BMC's address does not resolve: no URL can be bound to it", Err: err}
	}
	return addrs, nil
}
