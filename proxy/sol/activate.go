package sol

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/app"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/bmcgate/bmcgate/proxy/ipmi"
)

// ccPayloadActive is the Activate Payload completion code "payload already
// active on another session" (IPMI v2.0 Table 24-2).
const ccPayloadActive = 0x80

// solInstance is the SOL payload instance bmcgate uses.
const solInstance = 1

var (
	errDeactivated = errors.New("sol: the BMC deactivated the payload")
	errNoAnswer    = errors.New("sol: no answer from the BMC")
)

// busyError reports that another session holds the payload; taken says it
// took it from this line while active.
type busyError struct {
	holder *Holder
	taken  bool
}

func (e *busyError) Error() string { return "sol: payload already active (" + e.holder.String() + ")" }

// session runs one session: dial, activate, stream until it drops. It
// reports whether the payload was active at some point.
func (l *Line) session(ctx context.Context) (bool, error) {
	s, err := ipmi.Dial(ctx, l.ep, l.opts.IPMI)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = s.Close(cctx)
	}()
	c := s.Client()
	chunk, err := l.activate(ctx, c)
	if err != nil {
		return false, err
	}
	_, id := s.SessionIDs()
	me := owner{id: id, port: s.LocalPort()}
	l.own(me)
	l.setStatus(Status{State: StateActive, Msg: "console connected"})
	err = newStream(l, c, s.SOL(), chunk, id).run(ctx)
	l.loseInput(lostReason(ctx, err))
	var busy *busyError
	if !errors.Is(err, errDeactivated) && !errors.As(err, &busy) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		l.release(cctx, c, id, err == nil)
		cancel()
	}
	return true, err
}

// lostReason says why queued input was not delivered.
func lostReason(ctx context.Context, err error) string {
	if err == nil || ctx.Err() != nil {
		return "the console was closed before the BMC accepted it"
	}
	var busy *busyError
	if errors.As(err, &busy) {
		return "another client took the console before the BMC accepted it"
	}
	return "the console was lost before the BMC accepted it (" + safeMsg(err) + ")"
}

// release deactivates the payload, but only when the BMC confirms that
// this session (id) holds it: a payload another client activated meanwhile
// is never deactivated here (that is a takeover, which activate does only
// when allowed). A BMC that cannot tell gets the deactivation only when
// the line closes normally (closing).
func (l *Line) release(ctx context.Context, c *client.Client, id uint32, closing bool) {
	info, err := c.GetPayloadInstanceInfo(ctx, types.PayloadTypeSOL, solInstance)
	switch {
	case err == nil && info.SessionID == id:
	case err != nil && isResponseError(err) && closing:
	default:
		return
	}
	_, _ = c.DeactivatePayload(ctx, &transport.DeactivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: solInstance})
}

// activate activates SOL instance 1 with encryption and authentication.
// When another session holds it, it learns who. A payload still held by an
// earlier session of this line (one the BMC has not yet timed out) is
// released and activated again; another client's payload is deactivated
// only when a takeover was allowed.
// It returns the most character data one packet to the BMC may carry.
func (l *Line) activate(ctx context.Context, c *client.Client) (int, error) {
	chunk := maxChunk
	act := func() error {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		res, err := c.ActivatePayload(cctx, &transport.ActivatePayloadRequest{
			PayloadType: types.PayloadTypeSOL, PayloadInstance: solInstance,
			EnableEncryption: true, EnableAuthentication: true,
		})
		if err == nil {
			chunk = chunkSize(res.InboundPayloadSize, res.OutboundPayloadSize)
		}
		return err
	}
	err := act()
	if err == nil {
		return chunk, nil
	}
	if !isCC(err, ccPayloadActive) {
		return 0, fmt.Errorf("sol: activate payload: %w", err)
	}
	holder := l.holder(ctx, c, 0)
	switch {
	case l.ownedBy(holder):
		l.opts.Logger.Info("sol: releasing a payload an earlier session of this gateway still holds", "bmc", l.ep.Name, "holder", holder.String())
	case l.takeTakeover():
		l.opts.Logger.Warn("sol takeover: deactivating another console's payload", "bmc", l.ep.Name, "holder", holder.String())
	default:
		return 0, &busyError{holder: holder}
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, derr := c.DeactivatePayload(cctx, &transport.DeactivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: solInstance})
	cancel()
	if derr != nil {
		return 0, fmt.Errorf("sol: deactivate the other payload: %w", derr)
	}
	if err := act(); err != nil {
		if isCC(err, ccPayloadActive) {
			return 0, &busyError{holder: holder}
		}
		return 0, fmt.Errorf("sol: activate payload after takeover: %w", err)
	}
	return chunk, nil
}

// chunkSize derives the character data per packet from the payload sizes
// the BMC announced (each includes the 4-byte SOL header). Which of the two
// a BMC means for its own direction varies, so the smaller one is used.
func chunkSize(in, out uint16) int {
	n := int(min(in, out)) - 4
	if n < 8 || n > maxChunk {
		if n < 8 {
			return 8
		}
		return maxChunk
	}
	return n
}

// holder asks the BMC which session holds the payload (best effort). id,
// when not 0, is the holder's session ID, already known.
func (l *Line) holder(ctx context.Context, c *client.Client, id uint32) *Holder {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h := &Holder{SessionID: id}
	if id == 0 {
		info, err := c.GetPayloadInstanceInfo(cctx, types.PayloadTypeSOL, solInstance)
		if err != nil || info.SessionID == 0 {
			return h
		}
		h.SessionID = info.SessionID
	}
	si, err := c.GetSessionInfo(cctx, &app.GetSessionInfoRequest{SessionIndex: 0xff, SessionID: h.SessionID})
	if err != nil {
		return h
	}
	h.UserID = si.UserID
	h.Privilege = si.OperatingPrivilegeLevel.String()
	if ip := si.RemoteConsoleIPAddr; len(ip) > 0 && !ip.IsUnspecified() {
		h.Remote = net.JoinHostPort(ip.String(), fmt.Sprint(si.RemoteConsolePort))
		h.port = int(si.RemoteConsolePort)
	}
	return h
}

// isResponseError reports whether err is an answer from the BMC (a
// completion code), as opposed to no answer.
func isResponseError(err error) bool {
	var re *types.ResponseError
	return errors.As(err, &re)
}

// isCC reports whether err carries the IPMI completion code cc.
func isCC(err error, cc uint8) bool {
	var re *types.ResponseError
	return errors.As(err, &re) && uint8(re.CompletionCode()) == cc
}
