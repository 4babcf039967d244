package ipmi

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bougou/go-ipmi/pkg/command/storage"
	"github.com/bougou/go-ipmi/pkg/types"
)

// Sensor is one sensor reading. Status is "ok", "warning", "critical" or
// "na" (no valid reading).
type Sensor struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Value  string `json:"value"`
	Unit   string `json:"unit"`
	Status string `json:"status"`
}

// Sensors reads every full and compact sensor record and its reading.
func (s *Session) Sensors(ctx context.Context) ([]Sensor, error) {
	var out []Sensor
	err := s.call(ctx, false, func(ctx context.Context) error {
		list, err := s.c.GetSensors(ctx)
		if err != nil {
			return err
		}
		out = make([]Sensor, 0, len(list))
		for _, x := range list {
			out = append(out, convertSensor(x))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func convertSensor(x *types.Sensor) Sensor {
	s := Sensor{
		Name:   printable(x.Name),
		Type:   printable(x.SensorType.String()),
		Value:  "na",
		Unit:   printable(x.SensorUnit.String()),
		Status: "na",
	}
	if x.NotPresent || x.ScanningDisabled || !x.IsReadingValid() {
		return s
	}
	if x.IsThreshold() && x.SensorUnit.IsAnalog() {
		s.Value = strconv.FormatFloat(roundTo(x.Value, 3), 'f', -1, 64)
		switch x.Threshold.ThresholdStatus {
		case types.SensorThresholdStatus_OK:
			s.Status = "ok"
		case types.SensorThresholdStatus_LNC, types.SensorThresholdStatus_UNC:
			s.Status = "warning"
		case types.SensorThresholdStatus_LCR, types.SensorThresholdStatus_UCR,
			types.SensorThresholdStatus_LNR, types.SensorThresholdStatus_UNR:
			s.Status = "critical"
		default:
			s.Status = "ok"
		}
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
	Raw       string    `json:"raw"`
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
	case sel.OEMTimestamped != nil:
		e.Time = ts(sel.OEMTimestamped.Timestamp)
		e.Event = fmt.Sprintf("OEM record type 0x%02x", uint8(sel.RecordType))
	default:
		e.Event = fmt.Sprintf("OEM record type 0x%02x", uint8(sel.RecordType))
	}
	return e
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
