package configs

// Scan configures the BMC posture scan.
type Scan struct{}

// scan fills in defaults and checks the scan section.
func (v *validator) scan() {}
