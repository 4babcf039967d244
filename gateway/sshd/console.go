package sshd

// consoleCommands are the Serial-over-LAN console commands.
func consoleCommands() []*command { return nil }
