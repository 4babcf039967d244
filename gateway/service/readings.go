package service

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
	"github.com/bmcgate/bmcgate/proxy/redfish"
)

// Sensor is one sensor reading, alike on every transport: the doors render
// it the same way whichever protocol reached the BMC, and a field a BMC
// does not report is empty (null, ""), never missing.
type Sensor struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Value is the reading as shown: a number, a discrete sensor's
	// states, or "na" without a valid reading.
	Value string `json:"value"`
	Unit  string `json:"unit"`
	// Status is the gateway's verdict: ok, warning, critical, or na
	// without a valid reading (the reading against the thresholds, and
	// the BMC's own health where it gives one).
	Status string `json:"status"`
	// Reading is the numeric value of an analog sensor, nil otherwise.
	Reading    *float64   `json:"reading"`
	Thresholds Thresholds `json:"thresholds"`
	// Health is the BMC's own verdict: ok, warning, critical (Redfish
	// Status.Health; IPMI: the threshold status a threshold sensor's
	// reading comes with); "" when the BMC gives none.
	Health string `json:"health"`
	// State is enabled, disabled, absent, unavailable (IPMI: no reading)
	// or another Redfish Status.State in lower case; "" when unknown.
	State string `json:"state"`
}

// Thresholds of a sensor in its unit, on both transports' scale: non-critical
// (IPMI non-critical, Redfish Caution), critical, and fatal (IPMI
// non-recoverable, Redfish Fatal). Nil where the BMC does not say.
type Thresholds struct {
	LowerNonCritical *float64 `json:"lower_non_critical"`
	LowerCritical    *float64 `json:"lower_critical"`
	LowerFatal       *float64 `json:"lower_fatal"`
	UpperNonCritical *float64 `json:"upper_non_critical"`
	UpperCritical    *float64 `json:"upper_critical"`
	UpperFatal       *float64 `json:"upper_fatal"`
}

// Set reports whether any threshold is known.
func (t Thresholds) Set() bool { return t != (Thresholds{}) }

// String is the thresholds as the doors print them, non-critical,
// critical and fatal on each side, "-" for one the BMC does not report:
// "lower 10/5/- upper -/-/-"; "-" when none is known.
func (t Thresholds) String() string {
	if !t.Set() {
		return "-"
	}
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	return "lower " + f(t.LowerNonCritical) + "/" + f(t.LowerCritical) + "/" + f(t.LowerFatal) +
		" upper " + f(t.UpperNonCritical) + "/" + f(t.UpperCritical) + "/" + f(t.UpperFatal)
}

// LogEntry is one event log record, alike on every transport. Entries are
// listed newest first.
type LogEntry struct {
	// ID is the BMC's record id: an IPMI SEL record id in decimal, or a
	// Redfish LogEntry Id (not always a number).
	ID string `json:"id"`
	// Log names the log it came from: "sel" on IPMI; on Redfish the owner
	// and log service, "system/Log1", "manager/SEL".
	Log string `json:"log"`
	// Time is zero when the BMC gave none (IPMI pre-init timestamps); it
	// is "" in JSON then.
	Time time.Time `json:"-"`
	// Severity is ok, warning, critical, or "" when the record does not
	// say (IPMI: only threshold events do).
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	Sensor    string `json:"sensor"`
	Direction string `json:"direction"` // asserted, deasserted or ""
	// Raw is an IPMI record's bytes in hex; "" on Redfish.
	Raw string `json:"raw"`
}

// MarshalJSON writes the entry with its time in RFC 3339, "" when unknown.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	type plain LogEntry
	ts := ""
	if !e.Time.IsZero() {
		ts = e.Time.UTC().Format(time.RFC3339)
	}
	return json.Marshal(struct {
		plain
		Time string `json:"time"`
	}{plain(e), ts})
}

// sensorFromIPMI converts an IPMI broker's sensor.
func sensorFromIPMI(s ipmi.Sensor) Sensor {
	th := s.Thresholds
	return Sensor{Name: s.Name, Type: s.Type, Value: s.Value, Unit: s.Unit, Status: s.Status, Reading: s.Reading,
		Health: s.Health, State: s.State, Thresholds: Thresholds{
			LowerNonCritical: th.LNC, LowerCritical: th.LCR, LowerFatal: th.LNR,
			UpperNonCritical: th.UNC, UpperCritical: th.UCR, UpperFatal: th.UNR,
		}}
}

// sensorFromRedfish converts a Redfish broker's sensor.
func sensorFromRedfish(s redfish.Sensor) Sensor {
	out := Sensor{Name: s.Name, Type: s.Type, Value: s.Value, Unit: s.Unit, Status: s.Status, Reading: s.Reading,
		Health: s.Health, State: s.State}
	if th := s.Thresholds; th != nil {
		out.Thresholds = Thresholds{
			LowerNonCritical: th.LowerCaution, LowerCritical: th.LowerCritical, LowerFatal: th.LowerFatal,
			UpperNonCritical: th.UpperCaution, UpperCritical: th.UpperCritical, UpperFatal: th.UpperFatal,
		}
	}
	return out
}

// selFromIPMI converts an IPMI SEL, which the broker reads oldest first,
// into entries newest first.
func selFromIPMI(es []ipmi.SELEntry) []LogEntry {
	out := make([]LogEntry, len(es))
	for i, e := range es {
		out[len(es)-1-i] = LogEntry{ID: strconv.Itoa(int(e.ID)), Log: "sel", Time: e.Time, Severity: e.Severity,
			Message: e.Event, Sensor: e.Sensor, Direction: e.Direction, Raw: e.Raw}
	}
	return out
}

// selFromRedfish converts Redfish log entries (the broker's order, newest
// first, is kept).
func selFromRedfish(es []redfish.LogEntry) []LogEntry {
	out := make([]LogEntry, len(es))
	for i, e := range es {
		out[i] = LogEntry{ID: e.ID, Log: e.Log, Time: e.Time, Severity: e.Severity, Message: e.Event,
			Sensor: e.Sensor, Direction: e.Direction}
	}
	return out
}
