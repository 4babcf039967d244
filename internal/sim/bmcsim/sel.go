package bmcsim

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/handlers"
	"github.com/bougou/go-ipmi/pkg/types"
)

// SELEvent is a standard (type 02h) System Event Log record to add.
type SELEvent struct {
	Time         time.Time // zero: now
	SensorType   uint8     // e.g. 0x01 temperature, 0x22 ACPI power state
	SensorNumber uint8
	EventType    uint8 // event/reading type code, e.g. 0x01 threshold, 0x6f sensor-specific
	Data         [3]byte
	Deassert     bool
}

const selCapacity = 512

// selStore is the simulated System Event Log.
type selStore struct {
	mu          sync.Mutex
	records     [][16]byte
	nextID      uint16
	reservation uint16
	addTime     uint32
	eraseTime   uint32
}

func newSELStore() *selStore { return &selStore{nextID: 1} }

func (s *selStore) add(e SELEvent) uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	var r [16]byte
	id := s.nextID
	s.nextID++
	if s.nextID == 0xffff {
		s.nextID = 1
	}
	binary.LittleEndian.PutUint16(r[0:2], id)
	r[2] = 0x02
	binary.LittleEndian.PutUint32(r[3:7], uint32(t.Unix()))
	r[7] = 0x20 // generator: BMC
	r[9] = 0x04 // event message revision (IPMI 1.5+)
	r[10] = e.SensorType
	r[11] = e.SensorNumber
	r[12] = e.EventType & 0x7f
	if e.Deassert {
		r[12] |= 0x80
	}
	copy(r[13:16], e.Data[:])
	if len(s.records) >= selCapacity {
		s.records = s.records[1:]
	}
	s.records = append(s.records, r)
	s.addTime = uint32(t.Unix())
	return id
}

func (s *selStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// register installs the SEL commands (IPMI 2.0 section 31) in r.
func (s *selStore) register(r *handlers.Registry) {
	r.RegisterFunc(types.CommandGetSELInfo, s.handleInfo)
	r.RegisterFunc(types.CommandReserveSEL, s.handleReserve)
	r.RegisterFunc(types.CommandGetSELEntry, s.handleGetEntry)
	r.RegisterFunc(types.CommandAddSELEntry, s.handleAdd)
	r.RegisterFunc(types.CommandClearSEL, s.handleClear)
	r.RegisterFunc(types.CommandGetSELTime, s.handleTime)
}

func (s *selStore) handleInfo(context.Context, *handlers.HandlerContext, []byte) ([]byte, types.CompletionCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := make([]byte, 14)
	resp[0] = 0x51
	binary.LittleEndian.PutUint16(resp[1:3], uint16(len(s.records)))
	binary.LittleEndian.PutUint16(resp[3:5], uint16((selCapacity-len(s.records))*16))
	binary.LittleEndian.PutUint32(resp[5:9], s.addTime)
	binary.LittleEndian.PutUint32(resp[9:13], s.eraseTime)
	resp[13] = 0x02 // reserve SEL supported
	return resp, types.CodeOK, nil
}

func (s *selStore) handleReserve(context.Context, *handlers.HandlerContext, []byte) ([]byte, types.CompletionCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reservation++
	if s.reservation == 0 {
		s.reservation = 1
	}
	resp := make([]byte, 2)
	binary.LittleEndian.PutUint16(resp, s.reservation)
	return resp, types.CodeOK, nil
}

func (s *selStore) handleGetEntry(_ context.Context, _ *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if len(req) < 6 {
		return nil, types.CodeRequestDataLengthInvalid, nil
	}
	id := binary.LittleEndian.Uint16(req[2:4])
	off, n := int(req[4]), int(req[5])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) == 0 {
		return nil, types.CodeRequestedDataNotPresent, nil
	}
	idx := -1
	switch id {
	case 0x0000:
		idx = 0
	case 0xffff:
		idx = len(s.records) - 1
	default:
		for i, r := range s.records {
			if binary.LittleEndian.Uint16(r[0:2]) == id {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		return nil, types.CodeRequestedDataNotPresent, nil
	}
	next := uint16(0xffff)
	if idx+1 < len(s.records) {
		next = binary.LittleEndian.Uint16(s.records[idx+1][0:2])
	}
	if off > 16 {
		return nil, types.CodeParameterOutOfRange, nil
	}
	end := 16
	if n != 0xff && off+n < 16 {
		end = off + n
	}
	resp := make([]byte, 2, 2+end-off)
	binary.LittleEndian.PutUint16(resp, next)
	resp = append(resp, s.records[idx][off:end]...)
	return resp, types.CodeOK, nil
}

func (s *selStore) handleAdd(_ context.Context, hctx *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if !atLeast(hctx, bmc.PrivilegeLevelOperator) {
		return nil, types.CodeInsufficientPrivilege, nil
	}
	if len(req) < 16 {
		return nil, types.CodeRequestDataLengthInvalid, nil
	}
	e := SELEvent{
		Time:         time.Unix(int64(binary.LittleEndian.Uint32(req[3:7])), 0),
		SensorType:   req[10],
		SensorNumber: req[11],
		EventType:    req[12] & 0x7f,
		Deassert:     req[12]&0x80 != 0,
	}
	copy(e.Data[:], req[13:16])
	resp := make([]byte, 2)
	binary.LittleEndian.PutUint16(resp, s.add(e))
	return resp, types.CodeOK, nil
}

func (s *selStore) handleClear(_ context.Context, hctx *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if !atLeast(hctx, bmc.PrivilegeLevelOperator) {
		return nil, types.CodeInsufficientPrivilege, nil
	}
	if len(req) < 6 || req[2] != 'C' || req[3] != 'L' || req[4] != 'R' {
		return nil, types.CodeRequestDataFieldInvalid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if binary.LittleEndian.Uint16(req[0:2]) != s.reservation || s.reservation == 0 {
		return nil, types.CodeReservationCanceled, nil
	}
	if req[5] == 0xaa {
		s.records = nil
		s.eraseTime = uint32(time.Now().Unix())
	}
	return []byte{0x01}, types.CodeOK, nil // erasure completed
}

func (s *selStore) handleTime(context.Context, *handlers.HandlerContext, []byte) ([]byte, types.CompletionCode, error) {
	resp := make([]byte, 4)
	binary.LittleEndian.PutUint32(resp, uint32(time.Now().Unix()))
	return resp, types.CodeOK, nil
}

// atLeast reports whether the request's session has at least priv.
func atLeast(hctx *handlers.HandlerContext, priv bmc.PrivilegeLevel) bool {
	if hctx == nil || hctx.Session == nil {
		return false
	}
	return hctx.Session.PrivilegeLevel >= priv
}
