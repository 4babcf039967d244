package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

//go:embed default-credentials.yaml
var builtinCredentials []byte

// DefaultCredential is one vendor default IPMI login the posture scan tests
// offline.
type DefaultCredential struct {
	Vendor   string `yaml:"vendor"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Source   string `yaml:"source"`
}

// credentialFile is the layout of a default-credential list.
type credentialFile struct {
	Credentials []DefaultCredential `yaml:"credentials"`
}

// LoadDefaultCredentials reads a default-credential list; an empty path
// means the list built into bmcgate.
func LoadDefaultCredentials(path string) ([]DefaultCredential, error) {
	data := builtinCredentials
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("read credential list: %w", err)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f credentialFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("credential list: %w", err)
	}
	if len(f.Credentials) == 0 {
		return nil, errors.New("credential list: no credentials")
	}
	for i, c := range f.Credentials {
		switch {
		case c.Vendor == "":
			return nil, fmt.Errorf("credential list: entry %d: vendor is required", i+1)
		case len(c.Username) > maxIPMIUsername:
			return nil, fmt.Errorf("credential list: entry %d (%s): user name longer than %d bytes", i+1, c.Vendor, maxIPMIUsername)
		case len(c.Password) > maxIPMIPassword:
			return nil, fmt.Errorf("credential list: entry %d (%s): password longer than %d bytes", i+1, c.Vendor, maxIPMIPassword)
		}
	}
	return f.Credentials, nil
}
