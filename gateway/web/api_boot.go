package web

import (
	"encoding/json"
	"net/http"

	"github.com/bmcgate/bmcgate/authz"
	"github.com/bmcgate/bmcgate/gateway/service"
)

// maxAPIBody bounds the JSON bodies of the boot and media calls.
const maxAPIBody = 4 << 10

func (s *Server) apiBoot(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	res, err := s.svc.Boot(r.Context(), c, r.PathValue("name"))
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "boot": res.Value})
}

// apiSetBoot sets the boot override: {"target": "pxe", "enabled":
// "once|persistent", "mode": "uefi|legacy"}; the answer is the override
// read back.
func (s *Server) apiSetBoot(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	var body struct {
		Target  string `json:"target"`
		Enabled string `json:"enabled"`
		Mode    string `json:"mode"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Target == "" {
		apiError(w, http.StatusBadRequest, "bad_request", `body must be {"target":"pxe|disk|cdrom|bios|usb|none","enabled":"once|persistent","mode":"uefi|legacy"}`)
		return
	}
	var res service.Result
	err := s.svc.SetBoot(r.Context(), c, service.BootRequest{Target: body.Target, Enabled: body.Enabled, Mode: body.Mode},
		[]string{r.PathValue("name")}, func(x service.Result) { res = x })
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "boot": res.Value})
}

func (s *Server) apiMedia(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	res, err := s.svc.Media(r.Context(), c, r.PathValue("name"))
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "slots": res.Value})
}

// apiMediaAction inserts an image of the library or ejects:
// {"action": "insert", "image": "NAME", "slot": "CD1"} or
// {"action": "eject", "slot": "CD1"}. Images are named, never given as
// URLs.
func (s *Server) apiMediaAction(w http.ResponseWriter, r *http.Request) {
	c, _ := CallerFrom(r.Context())
	var body struct {
		Action string `json:"action"`
		Image  string `json:"image"`
		Slot   string `json:"slot"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.Action != "insert" && body.Action != "eject") || (body.Action == "insert") != (body.Image != "") {
		apiError(w, http.StatusBadRequest, "bad_request", `body must be {"action":"insert","image":"NAME"} or {"action":"eject"}, with an optional "slot"`)
		return
	}
	a := authz.MediaInsert
	if body.Action == "eject" {
		a = authz.MediaEject
	}
	if !s.tokenAllows(w, r, c, a) {
		return
	}
	var res service.Result
	var err error
	if body.Action == "insert" {
		res, err = s.svc.InsertMedia(r.Context(), c, r.PathValue("name"), body.Image, body.Slot)
	} else {
		res, err = s.svc.EjectMedia(r.Context(), c, r.PathValue("name"), body.Slot)
	}
	apiResult(w, res, err, map[string]any{"bmc": res.BMC, "result": res.Value})
}
