package configs

// Console configures the Serial-over-LAN console broker.
type Console struct{}

// console fills in defaults and checks the console section.
func (v *validator) console() {}
