package bmcsim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bougou/go-ipmi/pkg/types"
)

// get returns the resource at p: state-backed resources are built from the
// simulated host, everything else is the mockup's.
func (r *Redfish) get(p string) (map[string]any, bool) {
	switch {
	case p == rfRoot:
		return r.static(rfRoot)
	case p == sysPath:
		return r.system(), true
	case p == mgrPath:
		// The mockup keeps virtual media under the system; older clients
		// (and BMCs) look for it under the manager: both lead there.
		m, ok := r.static(mgrPath)
		if ok {
			m["VirtualMedia"] = odataLink(sysPath + "/VirtualMedia")
		}
		return m, ok
	case p == sysPath+"/ResetActionInfo":
		if r.o.NoActionInfo || r.o.BrokenActionInfo {
			return nil, false
		}
		return r.resetActionInfo(), true
	case p == sysPath+"/LogServices/Log1/Entries":
		return r.selEntries(), true
	case strings.HasPrefix(p, sysPath+"/LogServices/Log1/Entries/"):
		return r.selEntry(strings.TrimPrefix(p, sysPath+"/LogServices/Log1/Entries/"))
	case p == mgrPath+"/LogServices/Log/Entries":
		return r.managerLog()
	case strings.HasPrefix(p, sysPath+"/VirtualMedia/"):
		return r.mediaResource(strings.TrimPrefix(p, sysPath+"/VirtualMedia/"))
	case p == chasPath:
		return r.chassis()
	case p == chasPath+"/Sensors" || strings.HasPrefix(p, chasPath+"/Sensors/"):
		return r.sensorResource(p)
	case p == chasPath+"/Thermal":
		return r.thermal()
	case p == chasPath+"/Power":
		return r.power()
	case p == mgrPath+"/NetworkProtocol":
		return r.networkProtocol()
	case p == rfRoot+"/SessionService/Sessions":
		return r.sessionCollection(), true
	case strings.HasPrefix(p, rfRoot+"/SessionService/Sessions/"):
		return r.sessionByID(strings.TrimPrefix(p, rfRoot+"/SessionService/Sessions/"))
	case p == rfRoot+"/AccountService/Accounts" || strings.HasPrefix(p, rfRoot+"/AccountService/Accounts/"):
		return r.accountResource(p)
	}
	return r.static(p)
}

func (r *Redfish) system() map[string]any {
	s, _ := r.static(sysPath)
	on := r.b.chassis.power()
	s["PowerState"] = map[bool]string{true: "On", false: "Off"}[on]
	sum := sha256.Sum256([]byte("bmcsim/" + r.b.name))
	s["UUID"] = fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	s["HostName"] = r.b.name
	s["SerialNumber"] = strings.ToUpper(fmt.Sprintf("SIM%x", sum[16:20]))
	st := s["Status"].(map[string]any)
	st["Health"], st["HealthRollup"] = "OK", r.worstHealth()
	boot := s["Boot"].(map[string]any)
	target, enabled, mode := r.bootState()
	boot["BootSourceOverrideTarget"] = target
	boot["BootSourceOverrideEnabled"] = enabled
	boot["BootSourceOverrideMode"] = mode
	boot["BootSourceOverrideTarget@Redfish.AllowableValues"] = stringsAny(r.o.BootTargets)
	boot["BootSourceOverrideEnabled@Redfish.AllowableValues"] = stringsAny([]string{"Disabled", "Once", "Continuous"})
	boot["BootSourceOverrideMode@Redfish.AllowableValues"] = stringsAny([]string{"Legacy", "UEFI"})
	acts := s["Actions"].(map[string]any)
	reset := map[string]any{
		"target":                            sysPath + "/Actions/ComputerSystem.Reset",
		"ResetType@Redfish.AllowableValues": stringsAny(r.o.ResetTypes),
	}
	if !r.o.NoActionInfo {
		reset["@Redfish.ActionInfo"] = sysPath + "/ResetActionInfo"
	}
	acts["#ComputerSystem.Reset"] = reset
	return s
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (r *Redfish) resetActionInfo() map[string]any {
	return map[string]any{
		"@odata.type": "#ActionInfo.v1_3_0.ActionInfo", "@odata.id": sysPath + "/ResetActionInfo",
		"Id": "ResetActionInfo", "Name": "Reset Action Info",
		"Parameters": []any{map[string]any{
			"Name": "ResetType", "Required": true, "DataType": "String",
			"AllowableValues": stringsAny(r.o.ResetTypes),
		}},
	}
}

// mockupBootTargets is the mockup's list of boot override targets.
func (r *Redfish) mockupBootTargets() []string {
	s := r.tree[sysPath]["Boot"].(map[string]any)
	var out []string
	for _, v := range s["BootSourceOverrideTarget@Redfish.AllowableValues"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// Boot override targets and the IPMI boot device selectors they share with
// the IPMI side (Get/Set System Boot Options, boot flags parameter 5).
var bootDevices = []struct {
	target string
	dev    types.BootDeviceSelector
}{
	{"None", types.BootDeviceSelectorNoOverride},
	{"Pxe", types.BootDeviceSelectorForcePXE},
	{"Hdd", types.BootDeviceSelectorForceHardDrive},
	{"Diags", types.BootDeviceSelectorForceDiagnosticPartition},
	{"Cd", types.BootDeviceSelectorForceCDROM},
	{"BiosSetup", types.BootDeviceSelectorForceBIOSSetup},
	{"Floppy", types.BootDeviceSelectorForceFloppy},
	{"Usb", types.BootDeviceSelectorForceRemoteMedia},
	{"RemoteDrive", types.BootDeviceSelectorForceRemoteHardDrive},
}

// bootState reads the override from the chassis boot flags the IPMI side
// also reads and writes.
func (r *Redfish) bootState() (target, enabled, mode string) {
	c := r.b.chassis
	c.mu.Lock()
	f := c.boot
	var cp types.BootOptionParam_BootFlags
	if f != nil {
		cp = *f
	}
	c.mu.Unlock()
	r.mu.Lock()
	extra := r.bootExtra
	r.mu.Unlock()
	if f == nil || !cp.BootFlagsValid {
		return "None", "Disabled", "UEFI"
	}
	mode = "Legacy"
	if cp.BIOSBootType == types.BIOSBootTypeEFI {
		mode = "UEFI"
	}
	enabled = "Once"
	if cp.Persist {
		enabled = "Continuous"
	}
	target = "None"
	for _, d := range bootDevices {
		if d.dev == cp.BootDeviceSelector {
			target = d.target
			break
		}
	}
	if extra != "" && cp.BootDeviceSelector == types.BootDeviceSelectorNoOverride {
		target = extra
	}
	switch cp.BootDeviceSelector {
	case types.BootDeviceSelectorForceHardDriveSafe:
		target = "Hdd"
	case types.BootDeviceSelectorForceRemoteCDROM:
		target = "Cd"
	case types.BootDeviceSelectorForceRemoteFloppy:
		target = "Floppy"
	}
	if target == "None" {
		enabled = "Disabled"
	}
	return target, enabled, mode
}

// setBoot writes the override into the shared chassis boot flags.
func (r *Redfish) setBoot(target, enabled, mode string) {
	dev, extra := types.BootDeviceSelectorNoOverride, ""
	found := false
	for _, d := range bootDevices {
		if d.target == target {
			dev, found = d.dev, true
		}
	}
	if !found {
		extra = target // no IPMI equivalent (UefiTarget, SDCard, …)
	}
	f := &types.BootOptionParam_BootFlags{
		BootFlagsValid:     enabled != "Disabled" && target != "None",
		Persist:            enabled == "Continuous",
		BIOSBootType:       types.BIOSBootType(mode == "UEFI"),
		BootDeviceSelector: dev,
	}
	r.mu.Lock()
	r.bootExtra = extra
	r.mu.Unlock()
	c := r.b.chassis
	c.mu.Lock()
	c.boot = f
	c.mu.Unlock()
}

// simulated sensors, with an Id usable in a path.
func sensorID(name string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			return c
		case c == '.':
			return '_'
		}
		return -1
	}, name)
}

type rfSensor struct {
	id, name, readingType, units, context string
	reading                               float64
	health                                string
	lcr, lnc, unc, ucr                    *float64
}

// simSensors converts the IPMI side's sensors (nil when sensors are off).
func (r *Redfish) simSensors() []rfSensor {
	ss := r.b.sensors
	if ss == nil {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]rfSensor, 0, len(ss.sensors))
	for _, s := range ss.sensors {
		conv := func(raw uint8) float64 {
			return math.Round(float64(raw)*float64(s.m)*math.Pow10(int(s.rExp))*1000) / 1000
		}
		opt := func(raw uint8) *float64 {
			if raw == 0 {
				return nil
			}
			v := conv(raw)
			return &v
		}
		x := rfSensor{id: sensorID(s.name), name: s.name, reading: conv(s.raw),
			lcr: opt(s.lcr), lnc: opt(s.lnc), unc: opt(s.unc), ucr: opt(s.ucr), health: "OK"}
		switch st := s.status(); {
		case st&0x12 != 0:
			x.health = "Critical"
		case st&0x09 != 0:
			x.health = "Warning"
		}
		switch s.typ {
		case 0x01:
			x.readingType, x.units, x.context = "Temperature", "Cel", "CPU"
			if s.entity == 0x37 {
				x.context = "Intake"
			}
		case 0x04:
			x.readingType, x.units, x.context = "Rotational", "RPM", "Fan"
		case 0x02:
			x.readingType, x.units, x.context = "Voltage", "V", "PowerSupply"
		default:
			x.readingType, x.units, x.context = "Current", "A", "Board"
		}
		out = append(out, x)
	}
	return out
}

func (r *Redfish) worstHealth() string {
	worst := "OK"
	for _, s := range r.simSensors() {
		if s.health == "Critical" || (s.health == "Warning" && worst == "OK") {
			worst = s.health
		}
	}
	return worst
}

func (r *Redfish) chassis() (map[string]any, bool) {
	c, ok := r.static(chasPath)
	if !ok {
		return nil, false
	}
	c["PowerState"] = map[bool]string{true: "On", false: "Off"}[r.b.chassis.power()]
	if r.o.NoSensorsCollection {
		delete(c, "Sensors")
	}
	return c, true
}

func thresholds(s rfSensor) map[string]any {
	th := map[string]any{}
	add := func(k string, v *float64) {
		if v != nil {
			th[k] = map[string]any{"Reading": *v}
		}
	}
	add("LowerCritical", s.lcr)
	add("LowerCaution", s.lnc)
	add("UpperCaution", s.unc)
	add("UpperCritical", s.ucr)
	return th
}

func (r *Redfish) sensorResource(p string) (map[string]any, bool) {
	if r.o.NoSensorsCollection {
		return nil, false
	}
	sims := r.simSensors()
	if sims == nil {
		return r.static(p)
	}
	coll := chasPath + "/Sensors"
	if p == coll {
		var ms []string
		for _, s := range sims {
			ms = append(ms, coll+"/"+s.id)
		}
		return collectionOf(coll, "SensorCollection", "Chassis sensors", ms), true
	}
	id := strings.TrimPrefix(p, coll+"/")
	for _, s := range sims {
		if s.id != id {
			continue
		}
		// The mockup's CPU temperature sensor is the template.
		t, _ := r.static(coll + "/CPU1Temp")
		t["@odata.id"], t["Id"], t["Name"] = p, s.id, s.name
		t["Reading"], t["ReadingUnits"], t["ReadingType"], t["PhysicalContext"] = s.reading, s.units, s.readingType, s.context
		t["Status"] = map[string]any{"State": "Enabled", "Health": s.health}
		t["Thresholds"] = thresholds(s)
		delete(t, "RelatedItem")
		delete(t, "ReadingRangeMax")
		return t, true
	}
	return nil, false
}

func (r *Redfish) thermal() (map[string]any, bool) {
	t, ok := r.static(chasPath + "/Thermal")
	sims := r.simSensors()
	if !ok || sims == nil {
		return t, ok
	}
	var temps, fans []any
	for i, s := range sims {
		m := map[string]any{"MemberId": strconv.Itoa(i), "Name": s.name, "Status": map[string]any{"State": "Enabled", "Health": s.health}}
		set := func(k string, v *float64) {
			if v != nil {
				m[k] = *v
			}
		}
		switch s.readingType {
		case "Temperature":
			m["@odata.id"] = fmt.Sprintf("%s/Thermal#/Temperatures/%d", chasPath, len(temps))
			m["ReadingCelsius"], m["PhysicalContext"] = s.reading, s.context
			set("UpperThresholdNonCritical", s.unc)
			set("UpperThresholdCritical", s.ucr)
			set("LowerThresholdNonCritical", s.lnc)
			set("LowerThresholdCritical", s.lcr)
			temps = append(temps, m)
		case "Rotational":
			m["@odata.id"] = fmt.Sprintf("%s/Thermal#/Fans/%d", chasPath, len(fans))
			m["Reading"], m["ReadingUnits"], m["PhysicalContext"] = s.reading, "RPM", "Backplane"
			set("LowerThresholdNonCritical", s.lnc)
			set("LowerThresholdCritical", s.lcr)
			fans = append(fans, m)
		}
	}
	t["Temperatures"], t["Fans"] = temps, fans
	delete(t, "Redundancy")
	return t, true
}

func (r *Redfish) power() (map[string]any, bool) {
	pw, ok := r.static(chasPath + "/Power")
	sims := r.simSensors()
	if !ok || sims == nil {
		return pw, ok
	}
	var volts []any
	for _, s := range sims {
		if s.readingType != "Voltage" {
			continue
		}
		m := map[string]any{
			"@odata.id": fmt.Sprintf("%s/Power#/Voltages/%d", chasPath, len(volts)), "MemberId": strconv.Itoa(len(volts)),
			"Name": s.name, "ReadingVolts": s.reading, "Status": map[string]any{"State": "Enabled", "Health": s.health},
		}
		for k, v := range map[string]*float64{"UpperThresholdNonCritical": s.unc, "UpperThresholdCritical": s.ucr,
			"LowerThresholdNonCritical": s.lnc, "LowerThresholdCritical": s.lcr} {
			if v != nil {
				m[k] = *v
			}
		}
		volts = append(volts, m)
	}
	pw["Voltages"] = volts
	return pw, true
}

// selRecords returns the IPMI side's SEL records, oldest first.
func (r *Redfish) selRecords() [][16]byte {
	s := r.b.sel
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][16]byte(nil), s.records...)
}

// logEntry converts one SEL record into a Redfish LogEntry of type SEL.
func logEntry(rec [16]byte) map[string]any {
	id := binary.LittleEndian.Uint16(rec[0:2])
	p := fmt.Sprintf("%s/LogServices/Log1/Entries/%d", sysPath, id)
	e := map[string]any{
		"@odata.type": "#LogEntry.v1_14_0.LogEntry", "@odata.id": p, "Id": strconv.Itoa(int(id)),
		"Name": fmt.Sprintf("Log Entry %d", id), "EntryType": "SEL", "Severity": "OK",
		"Created": time.Unix(int64(binary.LittleEndian.Uint32(rec[3:7])), 0).UTC().Format(time.RFC3339),
	}
	sel, err := types.ParseSEL(rec[:])
	if err != nil || sel.Standard == nil {
		e["Message"] = fmt.Sprintf("OEM record type 0x%02x", rec[2])
		return e
	}
	st := sel.Standard
	e["SensorType"] = st.SensorType.String()
	e["SensorNumber"] = int(st.SensorNumber)
	e["Message"] = st.EventReadingType.EventString(st.SensorType, st.EventData)
	e["EntryCode"] = map[bool]string{false: "Assert", true: "Deassert"}[bool(st.EventDir)]
	if st.EventReadingType == 0x01 && !st.EventDir {
		switch rec[13] & 0x0f {
		case 0x00, 0x01, 0x06, 0x07:
			e["Severity"] = "Warning"
		default:
			e["Severity"] = "Critical"
		}
	}
	return e
}

func (r *Redfish) selEntries() map[string]any {
	recs := r.selRecords()
	p := sysPath + "/LogServices/Log1/Entries"
	ms := make([]any, 0, len(recs))
	for _, rec := range recs {
		ms = append(ms, logEntry(rec))
	}
	return map[string]any{
		"@odata.id": p, "@odata.type": "#LogEntryCollection.LogEntryCollection", "Name": "System Event Log Entries",
		"Members": ms, "Members@odata.count": len(ms),
	}
}

func (r *Redfish) selEntry(id string) (map[string]any, bool) {
	for _, rec := range r.selRecords() {
		if strconv.Itoa(int(binary.LittleEndian.Uint16(rec[0:2]))) == id {
			return logEntry(rec), true
		}
	}
	return nil, false
}

func (r *Redfish) managerLog() (map[string]any, bool) {
	l, ok := r.static(mgrPath + "/LogServices/Log/Entries")
	if !ok {
		return nil, false
	}
	r.mu.Lock()
	cleared := r.mgrLogCleared
	r.mu.Unlock()
	if cleared {
		l["Members"], l["Members@odata.count"] = []any{}, 0
	}
	return l, true
}

func (r *Redfish) networkProtocol() (map[string]any, bool) {
	n, ok := r.static(mgrPath + "/NetworkProtocol")
	if !ok {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, on := range r.netProto {
		if prot, ok := n[k].(map[string]any); ok {
			prot["ProtocolEnabled"] = on
		}
	}
	return n, true
}

func (r *Redfish) sessionCollection() map[string]any {
	r.mu.Lock()
	r.expireLocked(time.Now())
	var ids []int
	for _, s := range r.sessions {
		n, _ := strconv.Atoi(s.id)
		ids = append(ids, n)
	}
	r.mu.Unlock()
	sort.Ints(ids)
	var ms []string
	for _, id := range ids {
		ms = append(ms, fmt.Sprintf("%s/SessionService/Sessions/%d", rfRoot, id))
	}
	return collectionOf(rfRoot+"/SessionService/Sessions", "SessionCollection", "Session Collection", ms)
}

func (r *Redfish) sessionByID(id string) (map[string]any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sessions {
		if s.id == id {
			return r.sessionResource(s), true
		}
	}
	return nil, false
}

// accounts are the configured user (Id 1) and ExtraAccounts.
func (r *Redfish) accounts() [][2]string {
	out := [][2]string{{r.o.Username, r.o.Role}}
	for _, a := range r.o.ExtraAccounts {
		name, role, ok := strings.Cut(a, ":")
		if !ok {
			role = "ReadOnly"
		}
		out = append(out, [2]string{name, role})
	}
	return out
}

func (r *Redfish) accountResource(p string) (map[string]any, bool) {
	coll := rfRoot + "/AccountService/Accounts"
	accts := r.accounts()
	if p == coll {
		var ms []string
		for i := range accts {
			ms = append(ms, fmt.Sprintf("%s/%d", coll, i+1))
		}
		return collectionOf(coll, "ManagerAccountCollection", "Accounts Collection", ms), true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(p, coll+"/"))
	if err != nil || n < 1 || n > len(accts) {
		return nil, false
	}
	a, _ := r.static(coll + "/1")
	a["@odata.id"], a["Id"], a["UserName"], a["RoleId"] = p, strconv.Itoa(n), accts[n-1][0], accts[n-1][1]
	a["Links"] = map[string]any{"Role": odataLink(rfRoot + "/AccountService/Roles/" + accts[n-1][1])}
	delete(a, "Certificates")
	return a, true
}
