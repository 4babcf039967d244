package ipmi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/bougou/go-ipmi/pkg/command/storage"
	"github.com/bougou/go-ipmi/pkg/types"
)

// SDR caching, as FreeIPMI's ipmi-sensors does it: the sensor data records
// of a BMC are read once and kept, keyed on the repository's change stamp
// (Get SDR Repository Info: record count, most recent addition and most
// recent erase timestamps). Each sensors call asks for the stamp (one
// exchange) and reads the SDRs again only when it changed; otherwise it
// costs one Get Sensor Reading per sensor.

// Bounds on one SDR repository walk.
const (
	maxSDRRecords  = 1024 // records walked per repository
	maxSDRRestarts = 3    // walks restarted because the repository changed
	sdrHeaderLen   = 5    // record ID, version, type, length
	sdrChunk       = 32   // first partial-read size; halved when refused
	sdrMinChunk    = 8
)

// Completion codes the SDR walk handles itself (IPMI 2.0 table 5-2, 33.12).
const (
	ccReservationCanceled = 0xc5
	ccCannotReturnBytes   = 0xca
)

// sdrStamp identifies one state of a BMC's SDR repository.
type sdrStamp struct {
	count  uint16
	added  int64 // most recent addition, seconds
	erased int64 // most recent erase, seconds
}

// sensorDef is what the SDR says about one sensor: everything needed to
// turn a Get Sensor Reading answer into a [Sensor], and no more.
type sensorDef struct {
	name       string
	number     uint8
	owner, lun uint8
	record     types.SDRRecordType
	sensorType types.SensorType
	reading    types.EventReadingType
	unit       types.SensorUnit
	analog     bool
	factors    types.ReadingFactors
	linear     types.LinearizationFunc
	thresholds Thresholds // the readable thresholds of a full record, in its unit
	raw        rawThresholds
}

// sdrCache holds the sensor definitions of one BMC. It is safe for
// concurrent use; two calls that find it stale may both read the
// repository, and the later one's result stays.
type sdrCache struct {
	mu    sync.Mutex
	valid bool
	stamp sdrStamp
	defs  []sensorDef
	chunk int // read size the BMC accepted; 0: whole records
	walks int // repository walks (for tests)
}

func (c *sdrCache) lookup(st sdrStamp) ([]sensorDef, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.stamp == st {
		return c.defs, true
	}
	return nil, false
}

func (c *sdrCache) store(st sdrStamp, defs []sensorDef, chunk int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid, c.stamp, c.defs, c.chunk = true, st, defs, chunk
	c.walks++
}

// readSize is the read size to start a walk with (0: whole records).
func (c *sdrCache) readSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chunk
}

// exchanger sends one IPMI request and decodes its answer (a
// *client.Client; a fake in tests).
type exchanger interface {
	Exchange(ctx context.Context, req types.Request, res types.Response) error
}

// sdrStampNow asks the BMC for its repository's change stamp.
func sdrStampNow(ctx context.Context, x exchanger) (sdrStamp, error) {
	r := &storage.GetSDRRepoInfoResponse{}
	if err := x.Exchange(ctx, &storage.GetSDRRepoInfoRequest{}, r); err != nil {
		return sdrStamp{}, err
	}
	return sdrStamp{count: r.RecordCount, added: r.MostRecentAdditionTime.Unix(), erased: r.MostRecentEraseTime.Unix()}, nil
}

// sensorDefs returns the BMC's sensor definitions, from cache when the
// repository has not changed since they were read. A BMC that refuses Get
// SDR Repository Info is walked every time.
func sensorDefs(ctx context.Context, x exchanger, cache *sdrCache) ([]sensorDef, error) {
	if cache == nil {
		cache = &sdrCache{}
	}
	st, err := sdrStampNow(ctx, x)
	if err != nil {
		if completionCode(err) == 0 {
			return nil, err
		}
		defs, _, err := walkSDR(ctx, x, cache.readSize())
		return defs, err
	}
	if defs, ok := cache.lookup(st); ok {
		return defs, nil
	}
	defs, chunk, err := walkSDR(ctx, x, cache.readSize())
	if err != nil {
		return nil, err
	}
	cache.store(st, defs, chunk)
	return defs, nil
}

// errSDRChanged reports a walk overtaken by a change of the repository.
var errSDRChanged = errors.New("the SDR repository changed during the read")

// walkSDR reads every full and compact sensor record. chunk is the read
// size to start with: 0 tries whole records first (and falls back to
// pieces when the BMC refuses them). It returns the read size that worked,
// for the next walk.
func walkSDR(ctx context.Context, x exchanger, chunk int) ([]sensorDef, int, error) {
	w := sdrWalk{x: x, chunk: chunk}
	for range maxSDRRestarts {
		w.reservation = 0
		defs, err := w.run(ctx)
		if errors.Is(err, errSDRChanged) {
			continue
		}
		return defs, w.chunk, err
	}
	return nil, w.chunk, fmt.Errorf("ipmi: %w %d times", errSDRChanged, maxSDRRestarts)
}

// sdrWalk is one pass over the repository.
type sdrWalk struct {
	x           exchanger
	chunk       int // 0: whole records
	reservation uint16
}

func (w *sdrWalk) run(ctx context.Context) ([]sensorDef, error) {
	var defs []sensorDef
	seen := make(map[uint16]bool)
	id := uint16(0)
	for range maxSDRRecords {
		data, next, err := w.record(ctx, id)
		if err != nil {
			return nil, err
		}
		if d, ok := parseSensorDef(data, next); ok {
			defs = append(defs, d)
		}
		if next == 0xffff {
			return defs, nil
		}
		if seen[next] || next == id {
			return nil, fmt.Errorf("ipmi: SDR record %#04x links back to an earlier record", next)
		}
		seen[id] = true
		id = next
	}
	return nil, fmt.Errorf("ipmi: SDR repository has more than %d records", maxSDRRecords)
}

// record reads one SDR (header and body) and the next record's ID.
func (w *sdrWalk) record(ctx context.Context, id uint16) ([]byte, uint16, error) {
	if w.chunk == 0 {
		res, err := w.get(ctx, id, 0, 0xff)
		switch {
		case err == nil && len(res.RecordData) >= sdrHeaderLen &&
			len(res.RecordData) >= sdrHeaderLen+int(res.RecordData[4]):
			return res.RecordData[:sdrHeaderLen+int(res.RecordData[4])], res.NextRecordID, nil
		case err == nil || completionCode(err) == ccCannotReturnBytes:
			w.chunk = sdrChunk // short or refused: read it in pieces
		default:
			return nil, 0, err
		}
	}
	if w.reservation == 0 {
		if err := w.reserve(ctx); err != nil {
			return nil, 0, err
		}
	}
	head, err := w.get(ctx, id, 0, sdrHeaderLen)
	if err != nil {
		return nil, 0, err
	}
	if len(head.RecordData) < sdrHeaderLen {
		return nil, 0, fmt.Errorf("ipmi: SDR record %#04x header is %d bytes", id, len(head.RecordData))
	}
	total := sdrHeaderLen + int(head.RecordData[4])
	data := make([]byte, sdrHeaderLen, total)
	copy(data, head.RecordData[:sdrHeaderLen])
	for len(data) < total {
		n := min(w.chunk, total-len(data))
		res, err := w.get(ctx, id, uint8(len(data)), uint8(n))
		if completionCode(err) == ccCannotReturnBytes && w.chunk > sdrMinChunk {
			w.chunk /= 2
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if len(res.RecordData) == 0 || len(res.RecordData) > n {
			return nil, 0, fmt.Errorf("ipmi: SDR record %#04x: %d bytes for a %d-byte read", id, len(res.RecordData), n)
		}
		data = append(data, res.RecordData...)
	}
	return data, head.NextRecordID, nil
}

// get is one Get SDR exchange. A canceled reservation means the repository
// changed: the walk starts again.
func (w *sdrWalk) get(ctx context.Context, id uint16, off, n uint8) (*storage.GetSDRResponse, error) {
	req := &storage.GetSDRRequest{ReservationID: w.reservation, RecordID: id, ReadOffset: off, ReadBytes: n}
	res := &storage.GetSDRResponse{}
	err := w.x.Exchange(ctx, req, res)
	if completionCode(err) == ccReservationCanceled {
		return nil, errSDRChanged
	}
	return res, err
}

func (w *sdrWalk) reserve(ctx context.Context) error {
	r := &storage.ReserveSDRRepoResponse{}
	if err := w.x.Exchange(ctx, &storage.ReserveSDRRepoRequest{}, r); err != nil {
		return err
	}
	w.reservation = r.ReservationID
	return nil
}

// completionCode returns the IPMI completion code carried by err, or 0.
func completionCode(err error) uint8 {
	if e, ok := types.IsResponseError(err); ok {
		return uint8(e.CompletionCode())
	}
	return 0
}

// parseSensorDef keeps full and compact sensor records; other record types
// and records that do not parse are skipped.
func parseSensorDef(data []byte, next uint16) (sensorDef, bool) {
	sdr, err := types.ParseSDR(data, next)
	if err != nil || sdr.RecordHeader == nil {
		return sensorDef{}, false
	}
	var d sensorDef
	var gen types.GeneratorID
	switch sdr.RecordHeader.RecordType {
	case types.SDRRecordTypeFullSensor:
		f := sdr.Full
		gen = f.GeneratorID
		d = sensorDef{number: uint8(f.SensorNumber), name: string(f.IDStringBytes), sensorType: f.SensorType,
			reading: f.SensorEventReadingType, unit: f.SensorUnit, factors: f.ReadingFactors, linear: f.LinearizationFunc,
			thresholds: fullThresholds(f, data), raw: fullRawThresholds(f, data)}
	case types.SDRRecordTypeCompactSensor:
		c := sdr.Compact
		gen = c.GeneratorID
		d = sensorDef{number: uint8(c.SensorNumber), name: string(c.IDStringBytes), sensorType: c.SensorType,
			reading: c.SensorEventReadingType, unit: c.SensorUnit}
	default:
		return sensorDef{}, false
	}
	d.name = strings.Clone(strings.TrimSpace(d.name))
	d.record = sdr.RecordHeader.RecordType
	d.analog = sdr.HasAnalogReading()
	d.owner, d.lun = gen.OwnerID(), gen.LUN()
	return d, true
}

// sdrReadableMask is the offset of a full record's Readable Threshold
// Mask (IPMI 2.0 table 43-1, byte 19: bit 0 LNC .. bit 5 UNR; the settable
// mask follows it). go-ipmi's parser swaps the two bytes, so the mask is
// read from the record itself; ipmi_sim, ipmitool and FreeIPMI agree on
// this order.
const sdrReadableMask = 18

// fullThresholds converts the thresholds a full sensor record (data)
// marks readable into the sensor's unit, linearization applied. A
// non-linear sensor's factors depend on the reading (Get Sensor Reading
// Factors), so its thresholds, like those of a non-threshold or non-analog
// sensor, are left unknown (the gateway's verdict still compares them, raw).
func fullThresholds(f *types.SDRFull, data []byte) Thresholds {
	rt := fullRawThresholds(f, data)
	if rt.readable == 0 || f.LinearizationFunc.IsNonLinear() {
		return Thresholds{}
	}
	conv := func(i int) *float64 {
		if rt.readable&(1<<i) == 0 {
			return nil
		}
		v := convertRaw(rt.raw[i], f.SensorUnit.AnalogDataFormat, f.ReadingFactors, f.LinearizationFunc)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		v = roundTo(v, 3)
		return &v
	}
	return Thresholds{LNC: conv(0), LCR: conv(1), LNR: conv(2), UNC: conv(3), UCR: conv(4), UNR: conv(5)}
}

// fullRawThresholds are the thresholds a full threshold sensor record
// (data) marks readable, raw; none for another record.
func fullRawThresholds(f *types.SDRFull, data []byte) rawThresholds {
	if f == nil || len(data) <= sdrReadableMask || !f.SensorEventReadingType.IsThreshold() || !f.SensorUnit.IsAnalog() {
		return rawThresholds{}
	}
	return rawThresholds{readable: data[sdrReadableMask] & 0x3f,
		raw: [6]uint8{f.LNC_Raw, f.LCR_Raw, f.LNR_Raw, f.UNC_Raw, f.UCR_Raw, f.UNR_Raw}}
}
