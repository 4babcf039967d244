package ipmi

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/storage"
	"github.com/bougou/go-ipmi/pkg/types"
)

// Sensor is one sensor reading. Status is "ok", "warning", "critical" or
// "na" (no valid reading). Reading is the numeric value of an analog
// threshold sensor (nil otherwise or without a valid reading); Thresholds
// are those the sensor's record makes readable; State is "enabled",
// "disabled" (scanning off), "absent" (not present) or "unavailable" (no
// reading).
type Sensor struct {
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	Value      string     `json:"value"`
	Unit       string     `json:"unit"`
	Status     string     `json:"status"`
	Reading    *float64   `json:"reading,omitempty"`
	Thresholds Thresholds `json:"thresholds"`
	// Health is the BMC's own verdict on a threshold sensor with a
	// reading (ok, warning, critical: the threshold status it answers
	// with the reading); "" for other sensors.
	Health string `json:"health,omitempty"`
	State  string `json:"state"`
}

// Thresholds of a threshold sensor in its unit, as IPMI names them: lower
// and upper non-critical, critical and non-recoverable; nil when the BMC
// does not say.
type Thresholds struct {
	LNC *float64 `json:"lnc,omitempty"`
	LCR *float64 `json:"lcr,omitempty"`
	LNR *float64 `json:"lnr,omitempty"`
	UNC *float64 `json:"unc,omitempty"`
	UCR *float64 `json:"ucr,omitempty"`
	UNR *float64 `json:"unr,omitempty"`
}

// Sensors reads every full and compact sensor record and its reading. A
// session on its own has no SDR cache: it walks the repository every time
// ([Broker.Sensors] keeps one per BMC).
func (s *Session) Sensors(ctx context.Context) ([]Sensor, error) {
	return s.sensors(ctx, nil)
}

// sensors reads the sensor definitions (from cache when the repository is
// unchanged) and one reading per sensor.
func (s *Session) sensors(ctx context.Context, cache *sdrCache) ([]Sensor, error) {
	var out []Sensor
	err := s.call(ctx, false, func(ctx context.Context) error {
		defs, err := sensorDefs(ctx, s.c, cache)
		if err != nil {
			return err
		}
		out = make([]Sensor, 0, len(defs))
		for i := range defs {
			x, err := s.readSensor(ctx, &defs[i])
			if err != nil {
				return err
			}
			out = append(out, convertSensor(x, &defs[i]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readSensor asks for one sensor's reading (Get Sensor Reading, addressed
// to the sensor's owner and LUN; Get Sensor Reading Factors as well for a
// non-linear sensor). A sensor whose reading the BMC refuses with a
// completion code is returned without a valid reading.
func (s *Session) readSensor(ctx context.Context, d *sensorDef) (*types.Sensor, error) {
	x := &types.Sensor{
		SDRRecordType:    d.record,
		HasAnalogReading: d.analog,
		Number:           d.number,
		Name:             d.name,
		SensorUnit:       d.unit,
		SensorType:       d.sensorType,
		EventReadingType: d.reading,
	}
	x.Threshold.LinearizationFunc = d.linear
	x.Threshold.ReadingFactors = d.factors
	ctx = client.WithCommandContext(ctx, (&client.CommandContext{}).WithResponderAddr(d.owner).WithResponderLUN(d.lun))
	r, err := s.c.GetSensorReading(ctx, d.number)
	if err != nil {
		if completionCode(err) != 0 {
			// Absent ("requested data not present") or refused (BMCs
			// differ in the code): this sensor has no reading; the others
			// are still read.
			x.NotPresent = completionCode(err) == uint8(types.CodeRequestedDataNotPresent)
			return x, nil
		}
		return nil, err
	}
	x.Raw = r.Reading
	x.ScanningDisabled = r.SensorScanningDisabled
	x.ReadingAvailable = !r.ReadingUnavailable
	x.Threshold.ThresholdStatus = r.ThresholdStatus()
	x.Discrete.ActiveStates = r.ActiveStates
	if d.record == types.SDRRecordTypeFullSensor && d.linear.IsNonLinear() && x.ReadingAvailable {
		f, err := s.c.GetSensorReadingFactors(ctx, d.number, r.Reading)
		switch {
		case err == nil:
			x.Threshold.ReadingFactors = f.ReadingFactors
		case completionCode(err) == 0:
			return nil, err
		default:
			x.ReadingAvailable = false // no factors, no value
		}
	}
	x.Value = float64(r.Reading)
	if x.HasAnalogReading {
		x.Value = convertRaw(r.Reading, d.unit.AnalogDataFormat, x.Threshold.ReadingFactors, d.linear)
		if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
			x.ReadingAvailable = false // outside the linearization's domain
		}
	}
	return x, nil
}

// convertSensor builds a [Sensor] from a reading and its definition d. A
// threshold sensor's Health is the BMC's own verdict, the threshold status
// of its Get Sensor Reading answer; its Status is the worse of that and
// the raw reading against the record's raw thresholds, as Redfish's is.
func convertSensor(x *types.Sensor, d *sensorDef) Sensor {
	s := Sensor{
		Name:       printable(x.Name),
		Type:       printable(x.SensorType.String()),
		Value:      "na",
		Unit:       printable(x.SensorUnit.String()),
		Status:     "na",
		Thresholds: d.thresholds,
		State:      "enabled",
	}
	switch {
	case x.NotPresent:
		s.State = "absent"
		return s
	case x.ScanningDisabled:
		s.State = "disabled"
		return s
	case !x.IsReadingValid():
		s.State = "unavailable"
		return s
	}
	if x.IsThreshold() && x.SensorUnit.IsAnalog() {
		v := roundTo(x.Value, 3)
		s.Reading = &v
		s.Value = strconv.FormatFloat(v, 'f', -1, 64)
		s.Health = thresholdHealth(x.Threshold.ThresholdStatus)
		s.Status = worse(s.Health, d.raw.verdict(x.Raw, d.unit.AnalogDataFormat))
		return s
	}
	var events []string
	for _, e := range x.DiscreteActiveEventsString() {
		if e = printable(e); e != "" && e != "N/A" {
			events = append(events, e)
		}
	}
	s.Value = fmt.Sprintf("0x%02x", x.Raw)
	if len(events) > 0 {
		s.Value = strings.Join(events, ", ")
	}
	s.Status = "ok"
	return s
}

// thresholdHealth is the verdict a Get Sensor Reading answer's threshold
// status gives.
func thresholdHealth(st types.SensorThresholdStatus) string {
	switch st {
	case types.SensorThresholdStatus_LNC, types.SensorThresholdStatus_UNC:
		return "warning"
	case types.SensorThresholdStatus_LCR, types.SensorThresholdStatus_UCR,
		types.SensorThresholdStatus_LNR, types.SensorThresholdStatus_UNR:
		return "critical"
	}
	return "ok"
}

func roundTo(v float64, digits int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return p
}

// SELEntry is one System Event Log record. Time is zero for records logged
// before the BMC's clock was set ("pre-init" timestamps).
type SELEntry struct {
	ID        uint16    `json:"id"`
	Time      time.Time `json:"time"`
	Sensor    string    `json:"sensor"`
	Event     string    `json:"event"`
	Direction string    `json:"direction"`
	// Severity is what a threshold event says: "warning" for a
	// non-critical threshold crossed, "critical" for a critical or
	// non-recoverable one, "ok" when it is deasserted; "" for other events.
	Severity string `json:"severity"`
	Raw      string `json:"raw"`
}

// maxSELRecords bounds how many records one SEL read walks.
const maxSELRecords = 4096

// SEL returns the newest limit entries, oldest first (all when limit <= 0).
func (s *Session) SEL(ctx context.Context, limit int) ([]SELEntry, error) {
	var out []SELEntry
	err := s.call(ctx, false, func(ctx context.Context) error {
		info, err := s.c.GetSELInfo(ctx)
		if err != nil {
			return err
		}
		out = []SELEntry{}
		if info.Entries == 0 {
			return nil
		}
		id := uint16(0)
		for n := 0; n < maxSELRecords && n <= int(info.Entries); n++ {
			req := &storage.GetSELEntryRequest{RecordID: id, ReadBytes: 0xff}
			res := &storage.GetSELEntryResponse{}
			if err := s.c.Exchange(ctx, req, res); err != nil {
				return err
			}
			out = append(out, convertSEL(res.Data))
			if limit > 0 && len(out) > limit {
				out = out[1:]
			}
			if res.NextRecordID == 0xffff || res.NextRecordID == id {
				break
			}
			id = res.NextRecordID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// preInitTime is the largest timestamp meaning "seconds since BMC init"
// rather than wall-clock time (IPMI 2.0 section 37).
const preInitTime = 0x20000000

func convertSEL(data []byte) SELEntry {
	e := SELEntry{Raw: hex.EncodeToString(data)}
	sel, err := types.ParseSEL(data)
	if err != nil {
		e.Event = "unparsable record"
		return e
	}
	e.ID = sel.RecordID
	ts := func(t time.Time) time.Time {
		if t.Unix() <= preInitTime {
			return time.Time{}
		}
		return t.UTC()
	}
	switch {
	case sel.Standard != nil:
		st := sel.Standard
		e.Time = ts(st.Timestamp)
		e.Sensor = fmt.Sprintf("%s #0x%02x", printable(st.SensorType.String()), uint8(st.SensorNumber))
		e.Event = printable(st.EventReadingType.EventString(st.SensorType, st.EventData))
		e.Direction = "asserted"
		if st.EventDir {
			e.Direction = "deasserted"
		}
		e.Severity = thresholdSeverity(st)
	case sel.OEMTimestamped != nil:
		e.Time = ts(sel.OEMTimestamped.Timestamp)
		e.Event = fmt.Sprintf("OEM record type 0x%02x", uint8(sel.RecordType))
	default:
		e.Event = fmt.Sprintf("OEM record type 0x%02x", uint8(sel.RecordType))
	}
	return e
}

// thresholdSeverity is the severity of a threshold event (event reading
// type 01h): event data 1's offset names the threshold crossed (IPMI 2.0
// table 42-2: 0-1 lower non-critical, 2-3 lower critical, 4-5 lower
// non-recoverable, 6-7 upper non-critical, 8-9 upper critical, 10-11
// upper non-recoverable).
func thresholdSeverity(st *types.SELStandard) string {
	if st.EventReadingType != types.EventReadingTypeThreshold {
		return ""
	}
	if st.EventDir {
		return "ok"
	}
	switch off := st.EventData.EventData1 & 0x0f; {
	case off <= 1, off == 6, off == 7:
		return "warning"
	case off <= 11:
		return "critical"
	}
	return ""
}

// ClearSEL erases the System Event Log (Reserve SEL, then Clear SEL).
func (s *Session) ClearSEL(ctx context.Context) error {
	var rid uint16
	if err := s.call(ctx, false, func(ctx context.Context) error {
		r, err := s.c.ReserveSEL(ctx)
		if err != nil {
			return err
		}
		rid = r.ReservationID
		return nil
	}); err != nil {
		return err
	}
	return s.call(ctx, true, func(ctx context.Context) error {
		_, err := s.c.ClearSEL(ctx, rid)
		return err
	})
}
