package bmcsim

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/bougou/go-ipmi/pkg/hal"
	"github.com/bougou/go-ipmi/pkg/handlers"
	"github.com/bougou/go-ipmi/pkg/types"
)

// simSensor is a linear threshold sensor: value = raw * m * 10^rExp.
type simSensor struct {
	number   uint8
	name     string
	typ      uint8 // sensor type code
	unit     uint8 // base unit code
	entity   uint8
	m        int16
	rExp     int8
	raw      uint8
	unc, ucr uint8 // upper non-critical / critical thresholds (raw); 0 = none
	lnc, lcr uint8 // lower non-critical / critical thresholds (raw); 0 = none
}

// defaultSensors is the sensor set of every simulated BMC with Sensors on.
func defaultSensors() []*simSensor {
	return []*simSensor{
		{number: 1, name: "CPU Temp", typ: 0x01, unit: 1, entity: 0x03, m: 1, raw: 45, unc: 80, ucr: 90},
		{number: 2, name: "Inlet Temp", typ: 0x01, unit: 1, entity: 0x37, m: 1, raw: 24, unc: 40, ucr: 45},
		{number: 3, name: "FAN1", typ: 0x04, unit: 18, entity: 0x1d, m: 100, raw: 54, lnc: 10, lcr: 5},
		{number: 4, name: "FAN2", typ: 0x04, unit: 18, entity: 0x1d, m: 100, raw: 56, lnc: 10, lcr: 5},
		{number: 5, name: "12V", typ: 0x02, unit: 4, entity: 0x07, m: 6, rExp: -2, raw: 201, unc: 215, ucr: 220, lnc: 185, lcr: 180},
		{number: 6, name: "3.3V", typ: 0x02, unit: 4, entity: 0x07, m: 2, rExp: -2, raw: 165, unc: 180, ucr: 185, lnc: 150, lcr: 145},
	}
}

// sdrRecord packs a full sensor record (SDR type 01h, IPMI 2.0 section 43.1).
func (s *simSensor) sdrRecord(id uint16) []byte {
	name := []byte(s.name)
	if len(name) > 16 {
		name = name[:16]
	}
	r := make([]byte, 48+len(name))
	binary.LittleEndian.PutUint16(r[0:2], id)
	r[2] = 0x51
	r[3] = 0x01
	r[4] = byte(len(r) - 5)
	r[5] = 0x20 // owner: BMC
	r[6] = 0x00 // channel 0, LUN 0
	r[7] = s.number
	r[8] = s.entity
	r[9] = 0x01 // entity instance
	r[10] = 0x7f
	r[11] = 0x44 // auto re-arm, thresholds readable
	r[12] = s.typ
	r[13] = 0x01 // threshold event/reading type
	mask := s.thresholdMask()
	r[18] = mask // readable thresholds
	r[20] = 0x00 // unsigned analog
	r[21] = s.unit
	m := uint16(s.m) & 0x3ff
	r[24] = byte(m)
	r[25] = byte(m>>8) << 6
	r[29] = byte(s.rExp) << 4
	r[34] = 0xff // sensor maximum
	r[36], r[37], r[38] = 0, s.ucr, s.unc
	r[39], r[40], r[41] = 0, s.lcr, s.lnc
	r[47] = 0xc0 | byte(len(name))
	copy(r[48:], name)
	return r
}

func (s *simSensor) thresholdMask() uint8 {
	var m uint8
	if s.lnc != 0 {
		m |= 0x01
	}
	if s.lcr != 0 {
		m |= 0x02
	}
	if s.unc != 0 {
		m |= 0x08
	}
	if s.ucr != 0 {
		m |= 0x10
	}
	return m
}

// status returns the threshold comparison bits of Get Sensor Reading.
func (s *simSensor) status() uint8 {
	var b uint8
	if s.lnc != 0 && s.raw <= s.lnc {
		b |= 0x01
	}
	if s.lcr != 0 && s.raw <= s.lcr {
		b |= 0x02
	}
	if s.unc != 0 && s.raw >= s.unc {
		b |= 0x08
	}
	if s.ucr != 0 && s.raw >= s.ucr {
		b |= 0x10
	}
	return b
}

// sensorSet holds the sensors and serves their readings.
type sensorSet struct {
	mu      sync.Mutex
	sensors []*simSensor
}

func (ss *sensorSet) find(n uint8) *simSensor {
	for _, s := range ss.sensors {
		if s.number == n {
			return s
		}
	}
	return nil
}

// install writes the SDR records into the HAL's SDR store.
func (ss *sensorSet) install(ctx context.Context, store hal.SDRStore) error {
	for i, s := range ss.sensors {
		id := uint16(i + 1)
		if err := store.Write(ctx, id, s.sdrRecord(id)); err != nil {
			return fmt.Errorf("write SDR %d: %w", id, err)
		}
	}
	return nil
}

func (ss *sensorSet) register(r *handlers.Registry) {
	r.RegisterFunc(types.CommandGetSensorReading, ss.handleReading)
	r.RegisterFunc(types.CommandGetSensorThresholds, ss.handleThresholds)
}

func (ss *sensorSet) handleReading(_ context.Context, _ *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if len(req) < 1 {
		return nil, types.CodeRequestDataLengthInvalid, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.find(req[0])
	if s == nil {
		return nil, types.CodeRequestedDataNotPresent, nil
	}
	return []byte{s.raw, 0xc0, s.status() | 0xc0, 0x80}, types.CodeOK, nil
}

func (ss *sensorSet) handleThresholds(_ context.Context, _ *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if len(req) < 1 {
		return nil, types.CodeRequestDataLengthInvalid, nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.find(req[0])
	if s == nil {
		return nil, types.CodeRequestedDataNotPresent, nil
	}
	return []byte{s.thresholdMask(), s.lnc, s.lcr, 0, s.unc, s.ucr, 0}, types.CodeOK, nil
}

// set changes a sensor's raw reading.
func (ss *sensorSet) set(n, raw uint8) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.find(n)
	if s == nil {
		return false
	}
	s.raw = raw
	return true
}
