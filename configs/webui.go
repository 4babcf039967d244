package configs

// BMCWeb is how the gateway reaches one BMC's own web interface.
type BMCWeb struct{}

// bmcWeb checks one BMC's web section; field is its path ("bmcs[2].web").
func (v *validator) bmcWeb(field string, b *BMC) {}
