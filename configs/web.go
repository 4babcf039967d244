package configs

// Web configures the HTTPS front door.
type Web struct{}

// web fills in defaults and checks the web section.
func (v *validator) web() {}
