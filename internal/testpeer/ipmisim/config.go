package ipmisim

import (
	"fmt"
	"net"
	"strings"
)

// simName is the BMC name in lan.conf; ipmi_sim keeps persistent data in
// <state dir>/ipmi_sim/<name>.
const simName = "bmcgate-sim"

// lanConf renders the ipmi_lan(5) configuration.
func lanConf(port int, chassisScript, consoleAddr string, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name %q\nset_working_mc 0x20\n", simName)
	fmt.Fprintf(&b, "  startlan 1\n    addr 127.0.0.1 %d\n    priv_limit admin\n", port)
	for _, p := range []string{"callback", "user", "operator", "admin"} {
		fmt.Fprintf(&b, "    allowed_auths_%s md5\n", p)
	}
	b.WriteString("    guid a123456789abcdefa123456789abcdef\n")
	for _, l := range o.ExtraLAN {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	b.WriteString("  endlan\n")
	if !o.NoChassisControl {
		fmt.Fprintf(&b, "  chassis_control %q\n", chassisScript)
	}
	if consoleAddr != "" {
		host, port, _ := net.SplitHostPort(consoleAddr)
		fmt.Fprintf(&b, "  console %s %s\n", host, port)
	}
	if o.SOLAddr != "" {
		fmt.Fprintf(&b, "  sol \"tcp:%s\" 115200 history=4000\n", o.SOLAddr)
	}
	for _, u := range o.Users {
		fmt.Fprintf(&b, "  user %d true %q %q %s 10 md5\n", u.ID, u.Name, u.Password, simPriv(u.Priv))
	}
	return b.String()
}

func simPriv(p string) string {
	switch strings.ToLower(p) {
	case "callback":
		return "callback"
	case "user":
		return "user"
	case "operator":
		return "operator"
	}
	return "admin"
}

// chassisScriptText keeps the power state in powerFile. ipmi_sim runs it
// as "SCRIPT get power" and "SCRIPT set power 0|1" (also "set reset 1",
// "set shutdown 1" for hard reset and soft shutdown). ipmi_sim starts it for
// every Get Chassis Status, so "get" uses shell builtins only. The boot
// device of Set System Boot Options (ipmi_sim passes only the device
// selector, by name: none, pxe, default for the hard drive, cdrom, bios…)
// is kept in powerFile.boot and read back by Get System Boot Options.
func chassisScriptText(powerFile string) string {
	return `#!/bin/sh
f='` + powerFile + `'
case "$1" in
get)
	shift
	out=""
	for p in "$@"; do
		if [ "$p" = power ]; then
			v=0
			read -r v < "$f" 2>/dev/null
			out="$out power:$v"
		elif [ "$p" = boot ]; then
			v=none
			read -r v < "$f.boot" 2>/dev/null
			out="$out boot:$v"
		else
			out="$out $p:0"
		fi
	done
	echo $out
	;;
set)
	shift
	while [ $# -ge 2 ]; do
		case "$1" in
		power) echo "$2" > "$f" ;;
		boot) echo "$2" > "$f.boot" ;;
		shutdown) [ "$2" = 1 ] && echo 0 > "$f" ;;
		esac
		shift 2
	done
	;;
esac
exit 0
`
}

// emuCommands renders the ipmi_sim_cmd(5) startup file: the BMC at 0x20
// with a System Event Log holding a few records and, optionally, sensors.
func emuCommands(o Options) string {
	var b strings.Builder
	b.WriteString("mc_setbmc 0x20\n")
	b.WriteString("mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n")
	b.WriteString("sel_enable 0x20 1000 0x0a\n")
	// Temperature #0x01 upper non-critical going high, asserted then deasserted.
	b.WriteString("sel_add 0x20 2 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x01 0x01 0x01 0x57 0x50 0x46\n")
	b.WriteString("sel_add 0x20 2 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x01 0x01 0x81 0x57 0x44 0x46\n")
	if o.Sensors {
		for _, s := range o.sensors() {
			fmt.Fprintf(&b, "sensor_add 0x20 0 %d 0x%02x 0x01\n", s.number, s.typ)
			fmt.Fprintf(&b, "sensor_set_value 0x20 0 %d %d 0\n", s.number, s.raw)
			fmt.Fprintf(&b, "sensor_set_threshold 0x20 0 %d settable %s\n", s.number, s.thresholds)
		}
	}
	b.WriteString("mc_enable 0x20\n")
	return b.String()
}

// simSensor describes one threshold sensor of the simulator.
type simSensor struct {
	number     int
	name       string
	typ        int    // sensor type code
	unit       string // sdrcomp base_unit
	m          int
	rExp       int
	raw        int
	thresholds string // sensor_set_threshold mask and raw values (unr ucr unc lnr lcr lnc)
	sdrThresh  string // matching SDR threshold lines
	linear     string // sdrcomp linearization; "" is linear
}

var simSensors = []simSensor{
	{number: 1, name: "CPU Temp", typ: 0x01, unit: "degrees_C", m: 1, raw: 45,
		thresholds: "011000 0 90 80 0 0 0", sdrThresh: "uc_thresh 90\n  unc_thresh 80\n  uc_thrsh_readable true\n  unc_thrsh_readable true\n"},
	{number: 2, name: "FAN1", typ: 0x04, unit: "RPM", m: 100, raw: 54,
		thresholds: "000011 0 0 0 0 5 10", sdrThresh: "lc_thresh 5\n  lnc_thresh 10\n  lc_thrsh_readable true\n  lnc_thrsh_readable true\n"},
	{number: 3, name: "12V", typ: 0x02, unit: "Volts", m: 6, rExp: -2, raw: 201,
		thresholds: "011011 0 220 215 0 180 185", sdrThresh: "uc_thresh 220\n  unc_thresh 215\n  lc_thresh 180\n  lnc_thresh 185\n  uc_thrsh_readable true\n  unc_thrsh_readable true\n  lc_thrsh_readable true\n  lnc_thrsh_readable true\n"},
}

// linearizedSensors are added with Options.Linearized: sensors whose SDR
// names a linearization function (IPMI 2.0 §36.3, L in y = L[(Mx + B·10^K1)·10^K2]),
// and one whose SDR says "non-linear" (its factors come from Get Sensor
// Reading Factors, which ipmi_sim does not answer). sdrcomp's names are
// one off from table 43-1 past 1/x: its "sqr(x)" writes 09h, x³, and its
// "cube(x)" 0Ah, √x, which is how ipmitool and FreeIPMI read them too.
var linearizedSensors = []simSensor{
	{number: 4, name: "Pump", typ: 0x04, unit: "RPM", m: 1, raw: 50, linear: "sqr(x)",
		thresholds: "001011 0 0 70 0 20 30", sdrThresh: "unc_thresh 70\n  lc_thresh 20\n  lnc_thresh 30\n  unc_thrsh_readable true\n  lc_thrsh_readable true\n  lnc_thrsh_readable true\n"},
	{number: 5, name: "Flow", typ: 0x02, unit: "Volts", m: 1, rExp: -2, raw: 150, linear: "exp10",
		thresholds: "011000 0 250 200 0 0 0", sdrThresh: "uc_thresh 250\n  unc_thresh 200\n  uc_thrsh_readable true\n  unc_thrsh_readable true\n"},
	{number: 6, name: "NL Temp", typ: 0x01, unit: "degrees_C", m: 1, raw: 40, linear: "non-linear",
		thresholds: "011000 0 90 80 0 0 0", sdrThresh: "uc_thresh 90\n  unc_thresh 80\n  uc_thrsh_readable true\n  unc_thrsh_readable true\n"},
}

// sensors are the simulator's sensors under o.
func (o Options) sensors() []simSensor {
	if !o.Linearized {
		return simSensors
	}
	return append(append([]simSensor(nil), simSensors...), linearizedSensors...)
}

// sdrSource renders the sdrcomp input for the sensors.
func sdrSource(o Options) string {
	var b strings.Builder
	for _, s := range o.sensors() {
		lin := ""
		if s.linear != "" {
			lin = "linearization " + s.linear + "\n  "
		}
		fmt.Fprintf(&b, `sdr type 1
  sensor_owner_id 0x20
  channel_number 0
  sensor_owner_lun 0
  sensor_number %d
  entity_id system_board
  entity_instance 1
  init_scanning true
  init_events true
  init_thresholds true
  default_event_gen_on true
  default_sensor_scan_on true
  sensor_auto_rearm true
  sensor_threshold_access readable
  sensor_event_msg_ctrl per_state
  sensor_type %d
  event_reading_type_code 1
  analog_data_format unsigned
  base_unit %s
  m %d
  r_exp %d
  sensor_maximum 255
  sensor_minimum 0
  %s%s  id_string %q
endsdr
`, s.number, s.typ, s.unit, s.m, s.rExp, lin, s.sdrThresh, s.name)
	}
	return b.String()
}
