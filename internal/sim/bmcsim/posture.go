package bmcsim

import (
	"context"
	"sync"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/handlers"
	"github.com/bougou/go-ipmi/pkg/types"
)

// posture serves the LAN configuration parameters a posture scan reads and
// changes, on top of the reference server's own: 2 (authentication type
// enables), 22-24 (cipher suite entries and their maximum privilege
// levels), 17 and 19 (LAN alert destinations). Setting a suite's privilege to 0 ("unused") takes it out of
// service; clearing none/password in parameter 2 switches those IPMI 1.5
// authentication types off.
type posture struct {
	core *bmc.BMC
	base *handlers.Registry // the reference Get LAN Configuration Parameters

	mu     sync.Mutex
	suites []types.CipherSuiteID         // the fixed entry list (parameter 23)
	privs  []byte                        // maximum privilege per entry (parameter 24)
	v15    []bmc.V15AuthType             // enabled IPMI 1.5 authentication types
	alerts [alertDestinations + 1][]byte // parameter 19 data per set selector
}

// alertDestinations is how many LAN alert destinations the BMC offers
// (parameter 17); all start unset (IP 0.0.0.0).
const alertDestinations = 4

// registerPosture installs the posture parameters, and turns SOL Enable off
// when the BMC serves no console.
func registerPosture(reg *handlers.Registry, core *bmc.BMC, o Options) {
	p := &posture{core: core, base: handlers.NewRegistry(), suites: core.ResolvedCipherSuites()}
	handlers.RegisterTransportHandlers(p.base)
	for range p.suites {
		p.privs = append(p.privs, byte(bmc.PrivilegeLevelAdministrator))
	}
	if core.V15LANEnabled() {
		p.v15 = core.ResolvedV15AuthTypes()
	}
	if !o.SOL {
		_ = core.SOL.Config().SetParam(1, []byte{0x00})
	}
	reg.RegisterFunc(types.CommandGetLanConfigParam, p.get)
	reg.RegisterFunc(types.CommandSetLanConfigParam, p.set)
}

// v15Bits maps IPMI 1.5 authentication types to their enable bits.
var v15Bits = []struct {
	t   bmc.V15AuthType
	bit byte
}{{bmc.V15AuthTypeNone, 0x01}, {bmc.V15AuthTypeMD2, 0x02}, {bmc.V15AuthTypeMD5, 0x04}, {bmc.V15AuthTypePassword, 0x10}, {bmc.V15AuthTypeOEM, 0x20}}

func (p *posture) get(ctx context.Context, hctx *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if len(req) < 4 {
		return nil, types.CodeRequestDataTruncated, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch req[1] {
	case 2:
		var bits byte
		for _, e := range v15Bits {
			for _, t := range p.v15 {
				if t == e.t {
					bits |= e.bit
				}
			}
		}
		// Callback, user, operator, administrator, OEM: the same types.
		return []byte{0x11, bits, bits, bits, bits, 0}, types.CodeOK, nil
	case 17:
		return []byte{0x11, alertDestinations}, types.CodeOK, nil
	case 19:
		set := req[2] & 0x0f
		if set > alertDestinations {
			return nil, types.CodeParameterOutOfRange, nil
		}
		d := p.alerts[set]
		if d == nil {
			d = make([]byte, 13)
			d[0] = set
		}
		return append([]byte{0x11}, d...), types.CodeOK, nil
	case 22:
		return []byte{0x11, byte(len(p.suites))}, types.CodeOK, nil
	case 23:
		out := []byte{0x11, 0}
		for _, s := range p.suites {
			out = append(out, byte(s))
		}
		return out, types.CodeOK, nil
	case 24:
		return append([]byte{0x11}, p.packPrivs()...), types.CodeOK, nil
	}
	return p.base.Dispatch(ctx, hctx, byte(types.NetFnTransportRequest), types.CommandGetLanConfigParam.ID, req)
}

func (p *posture) packPrivs() []byte {
	out := make([]byte, 9)
	for i, v := range p.privs {
		if i >= 16 {
			break
		}
		out[1+i/2] |= (v & 0x0f) << (4 * (i % 2))
	}
	return out
}

func (p *posture) set(_ context.Context, _ *handlers.HandlerContext, req []byte) ([]byte, types.CompletionCode, error) {
	if len(req) < 2 {
		return nil, types.CodeRequestDataTruncated, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	data := req[2:]
	switch req[1] {
	case 0: // set in progress: accepted, nothing to commit
		return nil, types.CodeOK, nil
	case 2:
		if len(data) < 5 {
			return nil, types.CodeRequestDataLengthInvalid, nil
		}
		// One list for every privilege level: a type stays enabled only
		// if the administrator level still enables it.
		var on []bmc.V15AuthType
		for _, e := range v15Bits {
			if data[3]&e.bit != 0 {
				on = append(on, e.t)
			}
		}
		p.v15 = on
		if len(on) == 0 {
			bmc.WithV15Disabled()(p.core)
		} else {
			bmc.WithV15AuthTypes(on)(p.core)
		}
		return nil, types.CodeOK, nil
	case 19:
		if len(data) < 13 || data[0]&0x0f > alertDestinations {
			return nil, types.CodeRequestDataFieldInvalid, nil
		}
		p.alerts[data[0]&0x0f] = append([]byte(nil), data[:13]...)
		return nil, types.CodeOK, nil
	case 24:
		if len(data) < 9 {
			return nil, types.CodeRequestDataLengthInvalid, nil
		}
		var keep []types.CipherSuiteID
		for i := range p.privs {
			if i >= 16 {
				break
			}
			p.privs[i] = data[1+i/2] >> (4 * (i % 2)) & 0x0f
			if p.privs[i] != 0 {
				keep = append(keep, p.suites[i])
			}
		}
		if len(keep) == 0 {
			return nil, types.CodeRequestDataFieldInvalid, nil
		}
		p.core.SetCipherSuites(keep)
		return nil, types.CodeOK, nil
	}
	return nil, types.CodeParameterNotSupported, nil
}
