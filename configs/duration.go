package configs

import (
	"errors"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string such
// as "10s", "15m" or "1h30m". A bare number is refused: its unit would be a
// guess.
type Duration struct {
	time.Duration
}

// UnmarshalYAML decodes a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a duration like \"10s\", got %s", describeNode(n))
	}
	if n.Tag != "!!str" {
		return errors.New(`must be a duration with a unit, like "10s" or "15m"`)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a number with a unit, like \"10s\" or \"15m\"", n.Value)
	}
	d.Duration = v
	return nil
}

// MarshalYAML encodes d as a duration string.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}
