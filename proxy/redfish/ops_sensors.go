package redfish

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Sensor is one sensor reading. Name, Type, Value, Unit and Status are as
// in the IPMI broker's Sensor (Status "ok", "warning", "critical" or "na");
// Redfish also gives the numeric reading, thresholds, the BMC's own
// health verdict and the sensor's state ("enabled", "disabled", "absent",
// ... : Status.State in lower case).
type Sensor struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Value      string      `json:"value"`
	Unit       string      `json:"unit"`
	Status     string      `json:"status"`
	Reading    *float64    `json:"reading,omitempty"`
	Health     string      `json:"health,omitempty"`
	State      string      `json:"state,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"`
}

// Thresholds of a sensor; nil fields are not set on the BMC. Caution is
// Redfish's non-critical level, Fatal its non-recoverable one.
type Thresholds struct {
	LowerCritical *float64 `json:"lower_critical,omitempty"`
	LowerCaution  *float64 `json:"lower_caution,omitempty"`
	UpperCaution  *float64 `json:"upper_caution,omitempty"`
	UpperCritical *float64 `json:"upper_critical,omitempty"`
	LowerFatal    *float64 `json:"lower_fatal,omitempty"`
	UpperFatal    *float64 `json:"upper_fatal,omitempty"`
}

// units maps Redfish ReadingUnits (UCUM) to the words the IPMI broker
// prints.
var units = map[string]string{
	"Cel": "degrees C", "V": "Volts", "A": "Amps", "W": "Watts", "RPM": "RPM", "{rev}/min": "RPM",
	"%": "percent", "J": "Joules", "kW.h": "kWh", "Hz": "Hz", "Pa": "Pa", "L/min": "L/min",
}

// sensorTypes maps ReadingType to the IPMI broker's sensor type words.
var sensorTypes = map[string]string{
	"Temperature": "Temperature", "Voltage": "Voltage", "Current": "Current", "Power": "Power Supply",
	"EnergykWh": "Energy", "EnergyJoules": "Energy", "Frequency": "Frequency", "Percent": "Percent",
	"Rotational": "Fan", "Humidity": "Humidity", "AirFlow": "Air Flow", "PowerFactor": "Power Factor",
}

type threshold struct {
	Reading *float64
}

type sensorDoc struct {
	ID              string `json:"@odata.id"`
	Name            string
	ReadingType     string
	Reading         *float64
	ReadingUnits    string
	PhysicalContext string
	Status          status
	Thresholds      struct {
		LowerCritical, LowerCaution, UpperCaution, UpperCritical, LowerFatal, UpperFatal threshold
	}
}

// complete reports whether an expanded member carries its reading.
func (d *sensorDoc) complete() bool { return d.Name != "" || d.Reading != nil || d.Status.State != "" }

// Sensors reads the chassis' Sensors collection, or, on services without
// one, the Thermal (temperatures, fans) and Power (voltages) resources.
func (b *Broker) Sensors(ctx context.Context, ep Endpoint) ([]Sensor, error) {
	var out []Sensor
	err := b.do(ctx, ep, func(ctx context.Context, m *bmc) error {
		cp, err := m.chassisPath(ctx)
		if err != nil {
			return err
		}
		var ch struct {
			Sensors, Thermal, Power link
		}
		if _, err := m.get(ctx, cp, "chassis", &ch); err != nil {
			return err
		}
		if ch.Sensors.ID != "" {
			out, err = m.sensorCollection(ctx, ch.Sensors.ID)
			return err
		}
		out, err = m.legacySensors(ctx, ch.Thermal.ID, ch.Power.ID)
		return err
	})
	return out, err
}

func (m *bmc) sensorCollection(ctx context.Context, ref string) ([]Sensor, error) {
	p, err := m.resolve(ref)
	if err != nil {
		return nil, err
	}
	var docs []sensorDoc
	root, err := m.serviceRoot(ctx)
	if err == nil && root.expandLevels() {
		var c struct {
			Members []json.RawMessage
		}
		if _, err := m.get(ctx, p+"?$expand=.($levels=1)", "sensor collection", &c); err == nil {
			for _, raw := range c.Members[:min(len(c.Members), maxMembers)] {
				var d sensorDoc
				if decodeStrict(raw, &d) != nil {
					docs = nil
					break
				}
				if !d.complete() {
					var one sensorDoc
					mp, err := m.resolve(d.ID)
					if err != nil {
						return nil, err
					}
					if _, err := m.get(ctx, mp, "sensor", &one); err != nil {
						return nil, err
					}
					d = one
				}
				docs = append(docs, d)
			}
		}
	}
	if docs == nil {
		list, err := m.members(ctx, p, "sensor collection")
		if err != nil {
			return nil, err
		}
		for _, mp := range list {
			var d sensorDoc
			if _, err := m.get(ctx, mp, "sensor", &d); err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
	}
	out := make([]Sensor, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		th := &Thresholds{
			LowerCritical: d.Thresholds.LowerCritical.Reading, LowerCaution: d.Thresholds.LowerCaution.Reading,
			UpperCaution: d.Thresholds.UpperCaution.Reading, UpperCritical: d.Thresholds.UpperCritical.Reading,
			LowerFatal: d.Thresholds.LowerFatal.Reading, UpperFatal: d.Thresholds.UpperFatal.Reading,
		}
		typ := sensorTypes[d.ReadingType]
		if typ == "" {
			typ = text(d.ReadingType)
		}
		out = append(out, makeSensor(d.Name, typ, d.Reading, d.ReadingUnits, d.Status, th))
	}
	return out, nil
}

// makeSensor builds a Sensor; its Status is the worse of the BMC's health
// verdict and the reading against the thresholds.
func makeSensor(name, typ string, reading *float64, unit string, st status, th *Thresholds) Sensor {
	s := Sensor{Name: text(name), Type: typ, Value: "na", Unit: units[unit], Status: "na", Health: health(st.Health),
		State: strings.ToLower(text(st.State))}
	if s.Unit == "" {
		s.Unit = text(unit)
	}
	if th != nil && *th != (Thresholds{}) {
		s.Thresholds = th
	}
	if reading == nil || math.IsNaN(*reading) || math.IsInf(*reading, 0) || (st.State != "" && st.State != "Enabled") {
		return s
	}
	v := *reading
	s.Reading = &v
	s.Value = strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	rank := map[string]int{"": 0, "ok": 0, "warning": 1, "critical": 2}
	worst := s.Health
	cmp := func(limit *float64, above bool, level string) {
		if limit != nil && ((above && v >= *limit) || (!above && v <= *limit)) && rank[level] > rank[worst] {
			worst = level
		}
	}
	if th != nil {
		cmp(th.UpperCaution, true, "warning")
		cmp(th.LowerCaution, false, "warning")
		cmp(th.UpperCritical, true, "critical")
		cmp(th.LowerCritical, false, "critical")
		cmp(th.UpperFatal, true, "critical")
		cmp(th.LowerFatal, false, "critical")
	}
	if worst == "" {
		worst = "ok"
	}
	s.Status = worst
	return s
}

// legacyThresholds are the thresholds of a Thermal or Power member.
func legacyThresholds(lc, lnc, unc, uc, lf, uf *float64) *Thresholds {
	return &Thresholds{LowerCritical: lc, LowerCaution: lnc, UpperCaution: unc, UpperCritical: uc, LowerFatal: lf, UpperFatal: uf}
}

type legacyTemp struct {
	Name                      string
	ReadingCelsius            *float64
	UpperThresholdNonCritical *float64
	UpperThresholdCritical    *float64
	LowerThresholdNonCritical *float64
	LowerThresholdCritical    *float64
	UpperThresholdFatal       *float64
	LowerThresholdFatal       *float64
	Status                    status
}

type legacyFan struct {
	Name                      string
	FanName                   string
	Reading                   *float64
	ReadingUnits              string
	UpperThresholdNonCritical *float64
	UpperThresholdCritical    *float64
	LowerThresholdNonCritical *float64
	LowerThresholdCritical    *float64
	UpperThresholdFatal       *float64
	LowerThresholdFatal       *float64
	Status                    status
}

type legacyVolt struct {
	Name                      string
	ReadingVolts              *float64
	UpperThresholdNonCritical *float64
	UpperThresholdCritical    *float64
	LowerThresholdNonCritical *float64
	LowerThresholdCritical    *float64
	UpperThresholdFatal       *float64
	LowerThresholdFatal       *float64
	Status                    status
}

func (m *bmc) legacySensors(ctx context.Context, thermal, power string) ([]Sensor, error) {
	if thermal == "" && power == "" {
		return nil, newError(m.name, KindUnsupported, "the BMC's chassis has neither Sensors nor Thermal/Power", nil)
	}
	out := []Sensor{}
	if thermal != "" {
		p, err := m.resolve(thermal)
		if err != nil {
			return nil, err
		}
		var t struct {
			Temperatures []legacyTemp
			Fans         []legacyFan
		}
		if _, err := m.get(ctx, p, "thermal readings", &t); err != nil {
			return nil, err
		}
		for _, x := range t.Temperatures[:min(len(t.Temperatures), maxMembers)] {
			out = append(out, makeSensor(x.Name, "Temperature", x.ReadingCelsius, "Cel", x.Status,
				legacyThresholds(x.LowerThresholdCritical, x.LowerThresholdNonCritical, x.UpperThresholdNonCritical, x.UpperThresholdCritical, x.LowerThresholdFatal, x.UpperThresholdFatal)))
		}
		for _, x := range t.Fans[:min(len(t.Fans), maxMembers)] {
			name := x.Name
			if name == "" {
				name = x.FanName
			}
			u := x.ReadingUnits
			if u == "Percent" {
				u = "%"
			}
			out = append(out, makeSensor(name, "Fan", x.Reading, u, x.Status,
				legacyThresholds(x.LowerThresholdCritical, x.LowerThresholdNonCritical, x.UpperThresholdNonCritical, x.UpperThresholdCritical, x.LowerThresholdFatal, x.UpperThresholdFatal)))
		}
	}
	if power != "" {
		p, err := m.resolve(power)
		if err != nil {
			return nil, err
		}
		var pw struct {
			Voltages     []legacyVolt
			PowerControl []struct {
				Name               string
				PowerConsumedWatts *float64
				Status             status
			}
		}
		if _, err := m.get(ctx, p, "power readings", &pw); err != nil {
			return nil, err
		}
		for _, x := range pw.Voltages[:min(len(pw.Voltages), maxMembers)] {
			out = append(out, makeSensor(x.Name, "Voltage", x.ReadingVolts, "V", x.Status,
				legacyThresholds(x.LowerThresholdCritical, x.LowerThresholdNonCritical, x.UpperThresholdNonCritical, x.UpperThresholdCritical, x.LowerThresholdFatal, x.UpperThresholdFatal)))
		}
		for _, x := range pw.PowerControl[:min(len(pw.PowerControl), maxMembers)] {
			out = append(out, makeSensor(x.Name, "Power Supply", x.PowerConsumedWatts, "W", x.Status, nil))
		}
	}
	return out, nil
}
