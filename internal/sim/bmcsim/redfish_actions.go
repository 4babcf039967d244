package bmcsim

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

var errNotOn = errors.New("host is off")

func (r *Redfish) post(w http.ResponseWriter, req *http.Request, p string, body map[string]any, _ *rfSession) {
	switch p {
	case rfRoot + "/SessionService/Sessions":
		r.login(w, req, body)
		return
	case sysPath + "/Actions/ComputerSystem.Reset":
		rt, _ := body["ResetType"].(string)
		r.reset(w, rt)
		return
	case sysPath + "/LogServices/Log1/Actions/LogService.ClearLog":
		s := r.b.sel
		s.mu.Lock()
		s.records = nil
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case mgrPath + "/LogServices/Log/Actions/LogService.ClearLog":
		r.mu.Lock()
		r.mgrLogCleared = true
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	const vm = sysPath + "/VirtualMedia/"
	if strings.HasPrefix(p, vm) && !r.o.MediaPatchOnly {
		slot, action, _ := strings.Cut(strings.TrimPrefix(p, vm), "/Actions/")
		switch action {
		case "VirtualMedia.InsertMedia":
			img, _ := body["Image"].(string)
			wp, ok := body["WriteProtected"].(bool)
			r.insertMedia(w, req, slot, img, wp || !ok)
			return
		case "VirtualMedia.EjectMedia":
			r.ejectMedia(w, slot)
			return
		}
	}
	if strings.Contains(p, "/Actions/") {
		redfishError(w, http.StatusNotFound, "Base.1.5.ActionNotSupported", "The action is not supported by the service.")
		return
	}
	redfishError(w, http.StatusMethodNotAllowed, "Base.1.5.OperationNotAllowed", "POST is not allowed on this resource.")
}

// reset applies a ComputerSystem.Reset to the simulated host, with the
// same rules as the IPMI side's chassis control.
func (r *Redfish) reset(w http.ResponseWriter, rt string) {
	allowed := false
	for _, a := range r.o.ResetTypes {
		allowed = allowed || a == rt
	}
	if !allowed {
		redfishError(w, http.StatusBadRequest, "Base.1.5.ActionParameterValueNotInList",
			"The value "+rt+" for the parameter ResetType is not in the list of acceptable values.")
		return
	}
	c := r.b.chassis
	var err error
	switch rt {
	case "On", "ForceOn":
		c.set(true)
	case "ForceOff", "GracefulShutdown":
		c.set(false)
	case "PushPowerButton":
		c.set(!c.power())
	case "PowerCycle":
		err = c.PowerCycle(context.Background())
	case "ForceRestart", "GracefulRestart":
		err = c.ColdReset(context.Background())
	case "Nmi":
		if !c.power() {
			err = errNotOn
		}
	}
	if err != nil {
		redfishError(w, http.StatusConflict, "Base.1.5.ActionNotSupported", "The host is powered off; "+rt+" needs it on.")
		return
	}
	r.mu.Lock()
	r.resets = append(r.resets, rt)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *Redfish) patch(w http.ResponseWriter, req *http.Request, p string, body map[string]any) {
	switch {
	case p == sysPath:
		r.patchSystem(w, req, body)
	case strings.HasPrefix(p, sysPath+"/VirtualMedia/"):
		r.patchMedia(w, req, strings.TrimPrefix(p, sysPath+"/VirtualMedia/"), body)
	case p == mgrPath+"/NetworkProtocol":
		r.patchNetworkProtocol(w, body)
	default:
		redfishError(w, http.StatusMethodNotAllowed, "Base.1.5.OperationNotAllowed", "PATCH is not allowed on this resource.")
	}
}

// ifMatch reports whether the request's If-Match (if any) names etag.
func ifMatch(req *http.Request, etag string) bool {
	im := req.Header.Get("If-Match")
	if im == "" || im == "*" {
		return true
	}
	for _, t := range strings.Split(im, ",") {
		if strings.TrimSpace(t) == etag {
			return true
		}
	}
	return false
}

func (r *Redfish) patchSystem(w http.ResponseWriter, req *http.Request, body map[string]any) {
	if !ifMatch(req, etagOf(r.system())) {
		redfishError(w, http.StatusPreconditionFailed, "Base.1.5.PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource.")
		return
	}
	boot, ok := body["Boot"].(map[string]any)
	if !ok || len(body) != 1 {
		redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyNotWritable", "Only Boot can be changed on this system.")
		return
	}
	target, enabled, mode := r.bootState()
	for k, v := range boot {
		s, ok := v.(string)
		if !ok {
			redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyValueTypeError", "The value for the property "+k+" is of a different type than the property can accept.")
			return
		}
		var list []string
		switch k {
		case "BootSourceOverrideTarget":
			list, target = r.o.BootTargets, s
		case "BootSourceOverrideEnabled":
			list, enabled = []string{"Disabled", "Once", "Continuous"}, s
		case "BootSourceOverrideMode":
			list, mode = []string{"Legacy", "UEFI"}, s
		default:
			redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyNotWritable", "The property "+k+" is a read only property and cannot be assigned a value.")
			return
		}
		in := false
		for _, a := range list {
			in = in || a == s
		}
		if !in {
			redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyValueNotInList", "The value "+s+" for the property "+k+" is not in the list of acceptable values.")
			return
		}
	}
	r.setBoot(target, enabled, mode)
	w.WriteHeader(http.StatusNoContent)
}

func (r *Redfish) patchNetworkProtocol(w http.ResponseWriter, body map[string]any) {
	n, _ := r.networkProtocol()
	for k, v := range body {
		m, ok := v.(map[string]any)
		on, ok2 := m["ProtocolEnabled"].(bool)
		if _, exists := n[k].(map[string]any); !ok || !ok2 || !exists || len(m) != 1 {
			redfishError(w, http.StatusBadRequest, "Base.1.5.PropertyNotWritable", "Only ProtocolEnabled of a protocol can be changed.")
			return
		}
		r.mu.Lock()
		r.netProto[k] = on
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}
