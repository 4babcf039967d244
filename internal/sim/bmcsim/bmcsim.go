package bmcsim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
	"github.com/bougou/go-ipmi/pkg/handlers"
	"github.com/bougou/go-ipmi/pkg/server"
	"github.com/bougou/go-ipmi/pkg/transport/udp"
	"github.com/bougou/go-ipmi/pkg/types"
)

// Options configures a simulated BMC. Zero values take the defaults.
type Options struct {
	Addr         string   // default "127.0.0.1:0"
	Username     string   // default "admin"
	Password     string   // may be empty
	Privilege    string   // user's max privilege: "user", "operator", "administrator" (default)
	CipherSuites []int    // default {3, 17}; the reference server implements 0-3 and 15-17
	V15AuthTypes []string // "none", "md2", "md5", "password", "oem"; empty disables IPMI 1.5
	NullUser     bool     // also enable an anonymous user (empty name, empty password)
	Sensors      bool     // serve a few SDR sensors (temperatures, fans, voltages)
	SOL          bool     // serve an SOL console whose fake host echoes input
	PowerOn      bool     // initial chassis power state

	DeviceID       uint8  // default 0x20
	FirmwareMajor  uint8  // default 1
	FirmwareMinor  uint8  // BCD, default 0x10
	ManufacturerID uint32 // default 0xc0ffee (unassigned)
	ProductID      uint16 // default 0x0001
}

// BMC is one running simulated BMC.
type BMC struct {
	name    string
	addr    *net.UDPAddr
	chassis *chassis
	sel     *selStore
	sensors *sensorSet
	console *echoConsole // the host's serial console: SOL serves it when enabled, SSH consoles attach to it
	srv     *server.Server
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start runs a simulated BMC until Close (or ctx ends).
func Start(ctx context.Context, name string, opts Options) (*BMC, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: %w", name, err)
	}
	b := &BMC{
		name:    name,
		chassis: &chassis{on: o.PowerOn},
		sel:     newSELStore(),
		done:    make(chan struct{}),
	}
	h := &simHAL{HAL: mock.New(), chassis: b.chassis}
	b.console = &echoConsole{name: name}
	if o.SOL {
		h.console = b.console
	}
	sum := sha256.Sum256([]byte("bmcsim/" + name))
	var guid [16]byte
	copy(guid[:], sum[:16])
	info := bmc.DeviceInfo{
		DeviceID: o.DeviceID, DeviceRevision: 1,
		FirmwareMajor: o.FirmwareMajor, FirmwareMinor: o.FirmwareMinor,
		IPMIVersion: 0x02, ManufacturerID: o.ManufacturerID, ProductID: o.ProductID,
		AdditionalDeviceSupport: 0x8d, // chassis, SEL, SDR repository, sensor
	}
	core := bmc.New(info, guid, h, o.bmcOptions()...)
	if err := o.addUsers(core); err != nil {
		return nil, fmt.Errorf("bmcsim %s: %w", name, err)
	}
	if o.SOL {
		// Operator sessions may attach; payloads must be encrypted and
		// authenticated.
		if cc := core.SOL.Config().SetParam(2, []byte{0xc0 | byte(bmc.PrivilegeLevelOperator)}); cc != types.CodeOK {
			return nil, fmt.Errorf("bmcsim %s: SOL configuration: %v", name, cc)
		}
	}

	reg := handlers.NewRegistry()
	handlers.RegisterAllHandlers(reg)
	b.sel.register(reg)
	registerPosture(reg, core, o)
	if o.Sensors {
		b.sensors = &sensorSet{sensors: defaultSensors()}
		if err := b.sensors.install(ctx, h.Storage().SDR()); err != nil {
			return nil, fmt.Errorf("bmcsim %s: %w", name, err)
		}
		b.sensors.register(reg)
	}
	b.seedSEL()
	b.chassis.onChange = b.powerEvent

	conn, err := udp.Listen(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bmcsim %s: listen %s: %w", name, o.Addr, err)
	}
	ua, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("bmcsim %s: unexpected local address %v", name, conn.LocalAddr())
	}
	b.addr = ua
	srvOpts := []server.ServerOption{server.WithHandlerRegistry(reg)}
	b.srv = server.NewServer(core, conn, srvOpts...)
	go func() {
		defer close(b.done)
		_ = b.srv.Serve(context.WithoutCancel(ctx))
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = b.Close()
		case <-b.done:
		}
	}()
	return b, nil
}

// Close stops the BMC and frees its port.
func (b *BMC) Close() error {
	b.closeOnce.Do(func() {
		b.closeErr = b.srv.Close()
		<-b.done
	})
	return b.closeErr
}

// Name returns the BMC's name.
func (b *BMC) Name() string { return b.name }

// Addr returns the host:port the BMC listens on.
func (b *BMC) Addr() string { return b.addr.String() }

// Host returns the IP address the BMC listens on.
func (b *BMC) Host() string { return b.addr.IP.String() }

// Port returns the UDP port the BMC listens on.
func (b *BMC) Port() int { return b.addr.Port }

// Power reports whether the simulated host is powered on.
func (b *BMC) Power() bool { return b.chassis.power() }

// SetPower changes the power state as a local action (front panel) would.
func (b *BMC) SetPower(on bool) { b.chassis.set(on) }

// PowerCycles returns how many power cycles the BMC performed.
func (b *BMC) PowerCycles() int {
	b.chassis.mu.Lock()
	defer b.chassis.mu.Unlock()
	return b.chassis.cycles
}

// AddSEL appends a record to the System Event Log and returns its ID.
func (b *BMC) AddSEL(e SELEvent) uint16 { return b.sel.add(e) }

// Breaks returns how many serial breaks the console's host received, over
// SOL and SSH.
func (b *BMC) Breaks() int { return int(b.console.breaks.Load()) }

// ConsoleChanged returns a channel closed when the host next receives
// input or a break (over SOL or SSH).
func (b *BMC) ConsoleChanged() <-chan struct{} { return b.console.changedChan() }

// ConsoleReceived returns a copy of what the host received on its serial
// line, over SOL and SSH (the first MiB).
func (b *BMC) ConsoleReceived() []byte {
	b.console.mu.Lock()
	defer b.console.mu.Unlock()
	return append([]byte(nil), b.console.received...)
}

// SELCount returns the number of System Event Log records.
func (b *BMC) SELCount() int { return b.sel.count() }

// SetSensor sets the raw reading of a sensor (1: CPU Temp, 2: Inlet Temp,
// 3-4: fans, 5: 12V, 6: 3.3V). It reports false when sensors are off or
// the sensor does not exist.
func (b *BMC) SetSensor(number, raw uint8) bool {
	return b.sensors != nil && b.sensors.set(number, raw)
}

// seedSEL logs a few boot-time events so a fresh BMC has history.
func (b *BMC) seedSEL() {
	b.sel.add(SELEvent{SensorType: 0x12, SensorNumber: 0x80, EventType: 0x6f, Data: [3]byte{0x01, 0xff, 0xff}}) // OEM system boot event
	b.sel.add(SELEvent{SensorType: 0x01, SensorNumber: 0x01, EventType: 0x01, Data: [3]byte{0x07, 0x50, 0x50}}) // CPU temp upper non-critical going high
	b.sel.add(SELEvent{SensorType: 0x01, SensorNumber: 0x01, EventType: 0x01, Data: [3]byte{0x07, 0x48, 0x50}, Deassert: true})
}

// powerEvent logs an ACPI power state event on every power transition.
func (b *BMC) powerEvent(on bool) {
	state := byte(0x06) // S5/G2 soft-off
	if on {
		state = 0x00 // S0/G0 working
	}
	b.sel.add(SELEvent{SensorType: 0x22, SensorNumber: 0x90, EventType: 0x6f, Data: [3]byte{state, 0xff, 0xff}})
}

func (o Options) normalized() (Options, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Username == "" && !o.NullUser {
		o.Username = "admin"
	}
	if len(o.Username) > 16 || len(o.Password) > 20 {
		return o, errors.New("user name longer than 16 or password longer than 20 bytes")
	}
	if o.Privilege == "" {
		o.Privilege = "administrator"
	}
	if _, err := privilegeLevel(o.Privilege); err != nil {
		return o, err
	}
	if len(o.CipherSuites) == 0 {
		o.CipherSuites = []int{3, 17}
	}
	for _, s := range o.CipherSuites {
		if s < 0 || s > 255 || !bmc.SupportedCipherSuite(types.CipherSuiteID(s)) {
			return o, fmt.Errorf("cipher suite %d is not supported by the simulator", s)
		}
	}
	for _, a := range o.V15AuthTypes {
		if _, err := v15AuthType(a); err != nil {
			return o, err
		}
	}
	if o.DeviceID == 0 {
		o.DeviceID = 0x20
	}
	if o.FirmwareMajor == 0 && o.FirmwareMinor == 0 {
		o.FirmwareMajor, o.FirmwareMinor = 1, 0x10
	}
	if o.ManufacturerID == 0 {
		o.ManufacturerID = 0xc0ffee
	}
	if o.ProductID == 0 {
		o.ProductID = 1
	}
	return o, nil
}

func (o Options) bmcOptions() []bmc.Option {
	suites := make([]types.CipherSuiteID, 0, len(o.CipherSuites))
	for _, s := range o.CipherSuites {
		suites = append(suites, types.CipherSuiteID(s))
	}
	opts := []bmc.Option{bmc.WithCipherSuites(suites)}
	if len(o.V15AuthTypes) == 0 {
		return append(opts, bmc.WithV15Disabled())
	}
	auths := make([]bmc.V15AuthType, 0, len(o.V15AuthTypes))
	for _, a := range o.V15AuthTypes {
		t, _ := v15AuthType(a)
		auths = append(auths, t)
	}
	return append(opts, bmc.WithV15AuthTypes(auths))
}

// lanChannel is the LAN channel of the reference server.
const lanChannel = 1

func (o Options) addUsers(core *bmc.BMC) error {
	priv, _ := privilegeLevel(o.Privilege)
	add := func(id uint8, name, pass string) error {
		u, err := core.Users.Add(id, name)
		if err != nil {
			return fmt.Errorf("add user %d: %w", id, err)
		}
		u.SetPassword([]byte(pass))
		u.Enabled = true
		u.ChannelAccess[lanChannel] = bmc.UserChannelAccess{MaxPrivilege: priv, Enabled: true}
		u.SetPayloadAccess(lanChannel, true, 0x02, 0) // SOL
		return nil
	}
	if o.NullUser {
		if err := add(1, "", ""); err != nil {
			return err
		}
	}
	if o.Username != "" {
		return add(2, o.Username, o.Password)
	}
	return nil
}

func privilegeLevel(s string) (bmc.PrivilegeLevel, error) {
	switch strings.ToLower(s) {
	case "user":
		return bmc.PrivilegeLevelUser, nil
	case "operator":
		return bmc.PrivilegeLevelOperator, nil
	case "administrator", "admin":
		return bmc.PrivilegeLevelAdministrator, nil
	}
	return 0, fmt.Errorf("unknown privilege %q", s)
}

func v15AuthType(s string) (bmc.V15AuthType, error) {
	switch strings.ToLower(s) {
	case "none":
		return bmc.V15AuthTypeNone, nil
	case "md2":
		return bmc.V15AuthTypeMD2, nil
	case "md5":
		return bmc.V15AuthTypeMD5, nil
	case "password", "straight":
		return bmc.V15AuthTypePassword, nil
	case "oem":
		return bmc.V15AuthTypeOEM, nil
	}
	return 0, fmt.Errorf("unknown IPMI 1.5 auth type %q", s)
}
