package ipmi

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bmcgate/bmcgate/internal/sim/bmcsim"
	"github.com/bmcgate/bmcgate/internal/testpeer/ipmisim"
)

// TestPasswordNeverLeaks provokes every failure class against real peers
// and greps every error, its user message, the broker's debug log and the
// formatted endpoint, session and options for the password.
func TestPasswordNeverLeaks(t *testing.T) {
	ctx := t.Context()
	var logs logBuffer
	b, _ := newTestBroker(t, Options{Logger: logs.logger(), ConnectTimeout: 300 * time.Millisecond, CallTimeout: 300 * time.Millisecond})

	good := startBMC(t, bmcsim.Options{Password: testPassword})
	// The BMC's account has another password: the endpoint's is wrong.
	other := startBMC(t, bmcsim.Options{Password: "the-bmc-knows-this"})
	weak := startBMC(t, bmcsim.Options{CipherSuites: []int{0}})
	closedPC, _ := net.ListenPacket("udp", "127.0.0.1:0")
	closedAddr := closedPC.LocalAddr().String()
	closedPC.Close()
	silent, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer silent.Close()
	m := newMITM(t, good.Addr())
	var n atomic.Int32
	m.setToClient(rewriteOpenResponse(algorithms{}, &n))

	var errs []error
	record := func(err error) {
		if err == nil {
			t.Fatal("expected a failure")
		}
		errs = append(errs, err)
	}
	eps := []Endpoint{
		endpointFor("wrong-password", other.Addr(), 3),
		endpointFor("wrong-password-17", other.Addr(), 17),
		endpointFor("weak", weak.Addr(), 3),
		endpointFor("closed", closedAddr, 3),
		endpointFor("silent", silent.LocalAddr().String(), 17),
		endpointFor("downgrade", m.addr(), 3),
		func() Endpoint { e := endpointFor("suite2", good.Addr(), 2); return e }(),
		func() Endpoint {
			e := endpointFor("long", good.Addr(), 3)
			e.Username = strings.Repeat("x", 20)
			return e
		}(),
	}
	if err := ipmisim.Available(); err == nil {
		sim := ipmisim.StartT(t, ipmisim.Options{Users: []ipmisim.User{{ID: 2, Name: testUser, Password: "sim-knows-this"}}})
		eps = append(eps, endpointFor("ipmisim-wrong-password", sim.Addr, 3), endpointFor("ipmisim-17", sim.Addr, 17))
	}
	for _, ep := range eps {
		_, err := b.PowerStatus(ctx, ep)
		record(err)
		record(b.Power(ctx, ep, PowerOn))
		_, err = Dial(ctx, ep, Options{ConnectTimeout: 300 * time.Millisecond})
		record(err)
	}
	// Failures inside a working session, then a closed broker.
	lossy := newMITM(t, good.Addr())
	lep := endpointFor("lossy", lossy.addr(), 3)
	if _, err := b.PowerStatus(ctx, lep); err != nil {
		t.Fatal(err)
	}
	lossy.setToClient(func([]byte) [][]byte { return nil })
	record(b.Power(ctx, lep, PowerCycle))
	_, err := b.SEL(ctx, lep, 0)
	record(err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.Sensors(cctx, endpointFor("good", good.Addr(), 3))
	record(err)
	s, err := Dial(ctx, endpointFor("good", good.Addr(), 17), Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{fmt.Sprintf("%v %+v %s", s, s, s.String())}
	s.Close(ctx)
	b.Close()
	record(b.ClearSEL(ctx, endpointFor("good", good.Addr(), 3)))

	for _, e := range errs {
		noSecret(t, e)
		texts = append(texts, fmt.Sprintf("%v|%+v|%#v", e, e, e))
	}
	for _, ep := range eps {
		texts = append(texts, fmt.Sprintf("%v|%+v|%#v|%s|%q", ep, ep, ep, ep, ep))
	}
	texts = append(texts, logs.String(), fmt.Sprintf("%+v %#v", b.opts, b.Stats()))
	for _, txt := range texts {
		if strings.Contains(txt, testPassword) {
			t.Fatalf("password leaked: %s", txt)
		}
	}
	if !strings.Contains(logs.String(), "ipmi session setup failed") {
		t.Fatalf("the failure log was not exercised:\n%s", logs.String())
	}
	t.Logf("checked %d errors and %d bytes of log", len(errs), len(logs.String()))
}
