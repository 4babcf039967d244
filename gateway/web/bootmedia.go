package web

import (
	"context"
	"net/http"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// bootMediaView is the boot override and virtual media part of a BMC page:
// what the BMC reports, and the controls the policy lets the caller use
// (the service decides and audits again when one is used).
type bootMediaView struct {
	Boot                    *service.BootView
	BootErr                 string
	BootRead, BootSet       bool
	BootTargets             []string
	HasMedia                bool
	Media                   []service.MediaSlotView
	MediaErr                string
	MediaRead               bool
	SELClear                bool
	MediaInsert, MediaEject bool
	Images                  []string // the library's images, the only things that can be inserted
	InsertSlots             []string // slots that take an image
}

// bootTargetChoices are the targets offered by the boot form, as the SSH
// command names them.
var bootTargetChoices = []string{"pxe", "disk", "cdrom", "bios", "usb", "none"}

// bootMedia reads the boot override and the media slots of b when the
// caller may read them.
func (s *Server) bootMedia(ctx context.Context, c service.Caller, b *service.BMC) bootMediaView {
	allowed := s.svc.ActionsAllowed(c, b.Target(), authz.BootRead, authz.BootSet, authz.MediaRead, authz.MediaInsert, authz.MediaEject, authz.SELClear)
	v := bootMediaView{BootRead: allowed[authz.BootRead], BootSet: allowed[authz.BootSet], BootTargets: bootTargetChoices,
		HasMedia: s.svc.HasMedia(b), MediaRead: allowed[authz.MediaRead], SELClear: allowed[authz.SELClear]}
	if v.BootRead {
		if res, err := s.svc.Boot(ctx, c, b.Name); err == nil && res.OK {
			if bv, ok := res.Value.(service.BootView); ok {
				v.Boot = &bv
			}
		} else {
			v.BootErr = resultMessage(res, err)
		}
	}
	if !v.HasMedia {
		return v
	}
	v.MediaInsert, v.MediaEject = allowed[authz.MediaInsert], allowed[authz.MediaEject]
	if v.MediaInsert {
		v.Images = s.svc.ImageNames()
	}
	if !v.MediaRead {
		return v
	}
	res, err := s.svc.Media(ctx, c, b.Name)
	if err != nil || !res.OK {
		v.MediaErr = resultMessage(res, err)
		return v
	}
	v.Media, _ = res.Value.([]service.MediaSlotView)
	for _, sl := range v.Media {
		if sl.CanInsert {
			v.InsertSlots = append(v.InsertSlots, sl.ID)
		}
	}
	return v
}

// bootDo sets the boot override from the BMC page's form (target, enabled
// once|persistent, mode uefi|legacy or empty to keep the BMC's). The
// service validates, decides and audits; a refusal is a plain message.
func (s *Server) bootDo(w http.ResponseWriter, r *http.Request) {
	c, b, ok := s.formBMC(w, r)
	if !ok {
		return
	}
	set := service.BootRequest{Target: r.PostFormValue("target"), Enabled: r.PostFormValue("enabled"), Mode: r.PostFormValue("mode")}
	var res service.Result
	err := s.svc.SetBoot(r.Context(), c, set, []string{b.Name}, func(x service.Result) { res = x })
	if err == nil && res.BMC == "" {
		res.Message = "no result"
	}
	s.actionDone(w, r, b.Name, "boot", "set boot override", res, err)
}

// mediaDo inserts an image of the library into, or ejects, a virtual
// media slot from the BMC page's forms. The image is a library name,
// never a URL; the service grants the BMC its one-time URL.
func (s *Server) mediaDo(w http.ResponseWriter, r *http.Request) {
	c, b, ok := s.formBMC(w, r)
	if !ok {
		return
	}
	slot := r.PostFormValue("slot")
	var res service.Result
	var err error
	switch op := r.PostFormValue("action"); op {
	case "insert":
		res, err = s.svc.InsertMedia(r.Context(), c, b.Name, r.PostFormValue("image"), slot)
	case "eject":
		res, err = s.svc.EjectMedia(r.Context(), c, b.Name, slot)
	default:
		s.errorPage(w, r, http.StatusBadRequest, "Unknown virtual media operation.")
		return
	}
	s.actionDone(w, r, b.Name, r.PostFormValue("action"), r.PostFormValue("action")+" media", res, err)
}

// selClear clears the event log from the BMC page's button; the service
// decides (sel.clear) and audits.
func (s *Server) selClear(w http.ResponseWriter, r *http.Request) {
	c, b, ok := s.formBMC(w, r)
	if !ok {
		return
	}
	res, err := s.svc.ClearSEL(r.Context(), c, b.Name)
	s.actionDone(w, r, b.Name, "selclear", "clear event log", res, err)
}

// formBMC is the caller and the BMC a form posts to; an unknown BMC gets
// the error page.
func (s *Server) formBMC(w http.ResponseWriter, r *http.Request) (service.Caller, *service.BMC, bool) {
	c, _ := CallerFrom(r.Context())
	b, ok := s.svc.Lookup(c, r.PathValue("name"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Unknown BMC.")
	}
	return c, b, ok
}

// actionDone answers a form action: back to the BMC page with a fixed
// message on success, an error page with the plain reason otherwise.
func (s *Server) actionDone(w http.ResponseWriter, r *http.Request, name, done, what string, res service.Result, err error) {
	if err != nil || !res.OK {
		status := http.StatusBadGateway
		switch {
		case err != nil:
			status = http.StatusBadRequest
		case res.Denied:
			status = http.StatusForbidden
		}
		s.errorPage(w, r, status, what+" "+name+": "+resultMessage(res, err))
		return
	}
	http.Redirect(w, r, "/bmc/"+name+"?done="+done, http.StatusSeeOther)
}
