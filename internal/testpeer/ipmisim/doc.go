// Package ipmisim launches OpenIPMI's ipmi_sim as a real BMC peer for tests
// and benchmarks: it writes the LAN configuration, the emulator command
// file, compiled SDRs and a chassis-control script that keeps the power
// state in a file, starts ipmi_sim on a loopback UDP port and waits until it
// answers an RMCP presence ping.
package ipmisim
