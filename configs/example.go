package configs

import _ "embed"

// Example is the commented example configuration (configs/example.yaml).
// It loads cleanly with LoadOptions.SkipSecrets.
//
//go:embed example.yaml
var Example []byte
