// Package bmcsim runs simulated BMCs in-process on loopback UDP ports, built
// on go-ipmi's reference server (pkg/server, pkg/bmc).
//
// A simulated BMC speaks RMCP+ with configurable cipher suites (and IPMI 1.5
// only when asked), keeps an observable, changeable chassis power state,
// serves a few SDR sensors, a System Event Log and an SOL console whose fake
// host echoes what it receives. [BMC.StartRedfish] adds a Redfish service
// (HTTPS on loopback) over the same simulated host, seeded from the DMTF
// rackmount1 mockup in dmtf/. [BMC.StartSSH] adds an SSH console service
// (the host console as the session, as on OpenBMC, or iDRAC-, iLO- and
// Supermicro-like command lines that attach to it) on the same host serial
// console the SOL side serves, so what is typed on one is echoed on the
// other. It is used by `bmcgate demo` (dozens of instances in one process)
// and by tests.
package bmcsim
