package redfish

import (
	"testing"

	"github.com/bmcgate/bmcgate/proxy/bmcsim"
)

func TestSimSmoke(t *testing.T) {
	s := startSim(t, bmcsimOpts())
	b, logs := newBroker(t, Options{})
	ctx := t.Context()
	st, err := b.PowerStatus(ctx, s.ep)
	t.Logf("power %v %v", st, err)
	info, err := b.Info(ctx, s.ep)
	t.Logf("info %+v %v", info, err)
	sens, err := b.Sensors(ctx, s.ep)
	t.Logf("sensors %+v %v", sens, err)
	sel, err := b.SEL(ctx, s.ep, 0)
	t.Logf("sel %+v %v", sel, err)
	bo, err := b.Boot(ctx, s.ep)
	t.Logf("boot %+v %v", bo, err)
	bo, err = b.SetBoot(ctx, s.ep, BootSet{Target: "pxe", Mode: "uefi"})
	t.Logf("setboot %+v %v", bo, err)
	pr, err := b.Power(ctx, s.ep, PowerCycle)
	t.Logf("cycle %+v %v", pr, err)
	md, err := b.Media(ctx, s.ep)
	t.Logf("media %+v %v", md, err)
	np, err := b.NetworkProtocols(ctx, s.ep)
	t.Logf("np %+v %v", np, err)
	fw, err := b.FirmwareInventory(ctx, s.ep)
	t.Logf("fw %+v %v", fw, err)
	ac, err := b.Accounts(ctx, s.ep)
	t.Logf("acc %+v %v", ac, err)
	ss, err := b.Sessions(ctx, s.ep)
	t.Logf("sess %+v %v", ss, err)
	cl, err := b.ClearSEL(ctx, s.ep)
	t.Logf("clear %+v %v", cl, err)
	t.Logf("stats %+v", b.Stats())
	_ = logs
}

func bmcsimOpts() bmcsim.RedfishOptions { return bmcsim.RedfishOptions{} }
