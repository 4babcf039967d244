package ipmisim

import "syscall"

// sysProcAttr makes the kernel kill ipmi_sim if the test process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
