package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds the config file.
const maxFileSize = 4 << 20

// Check is a domain check supplied by the caller, run after the built-in
// validation. It reports each problem with a field path like
// "roles[0].allow[1].bmcs[2]"; the loader adds the file position. Checks run
// even when other problems were found, so they must tolerate fields that
// are empty or invalid.
type Check func(c *Config, report func(field, message string))

// LoadOptions change how a config is loaded.
type LoadOptions struct {
	// SkipSecrets leaves BMC passwords unresolved: password files and
	// environment variables are not read, so a config can be checked away
	// from the secrets. The rules about which password source is set are
	// still checked.
	SkipSecrets bool
	// Checks are extra checks run after the built-in validation.
	Checks []Check
}

// Load reads, decodes and validates the config file at path. Any problem
// with the file's content, however many, is returned as one *Error; failing
// to read the file at all is returned as a wrapped error.
func Load(path string, opts LoadOptions) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	return Parse(path, data, opts)
}

// Parse decodes and validates config data that was read from path. path
// names the file in problems and anchors relative paths in the config.
func Parse(path string, data []byte, opts LoadOptions) (*Config, error) {
	c := &Config{Path: path, pos: positions{}}
	probs := newCollector(path, c.pos)
	if len(data) > maxFileSize {
		probs.addAt(0, 0, "", fmt.Sprintf("the file is larger than %d bytes", maxFileSize))
		return nil, probs.err()
	}
	root := parseDocument(data, probs)
	if root == nil {
		return nil, probs.err()
	}

	w := &walker{pos: c.pos, probs: probs}
	w.decode(root, reflect.ValueOf(c).Elem(), "")
	if w.nodes >= maxNodes {
		// The decoded config is incomplete: validating it would only add noise.
		return nil, probs.err()
	}
	if len(probs.problems) == 0 {
		strictCrossCheck(data, probs)
	}

	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config directory of %s: %w", path, err)
	}
	v := &validator{c: c, dir: dir, opts: opts, probs: probs}
	v.run()
	for _, check := range opts.Checks {
		check(c, func(field, message string) { probs.add(field, "%s", message) })
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseDocument parses data into a node tree and returns the top-level
// mapping, or nil after reporting why there is none.
func parseDocument(data []byte, probs *collector) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			probs.addAt(0, 0, "", "the file is empty")
		} else {
			addYAMLError(probs, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		addYAMLError(probs, err)
		return nil
	default:
		probs.addAt(extra.Line, extra.Column, "", "only one YAML document is allowed (remove the second \"---\")")
		return nil
	}
	if len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		probs.addAt(0, 0, "", "the file is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		probs.addAt(root.Line, root.Column, "", "the file must be a mapping of keys to values, got "+describeNode(root))
		return nil
	}
	return root
}

// strictCrossCheck decodes data again with yaml's own strict decoder. The
// walker should already have reported anything it would find; whatever it
// still reports is added rather than trusted away.
func strictCrossCheck(data []byte, probs *collector) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var strict Config
	if err := dec.Decode(&strict); err != nil {
		addYAMLError(probs, err)
	}
}

// yamlLine matches the "line N: " that yaml puts before its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// backquoted matches values yaml quotes in its messages; they are removed
// because they might be passwords.
var backquoted = regexp.MustCompile("`[^`]*`")

// addYAMLError turns an error from the yaml package into problems, one per
// line of a TypeError.
func addYAMLError(probs *collector, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = backquoted.ReplaceAllString(m, "a value")
		line := 0
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		probs.addAt(line, 0, "", strings.TrimPrefix(m, "yaml: "))
	}
}

// cleanYAMLError returns the message of an error from decoding one value,
// without yaml's prefixes.
func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			if sm := yamlLine.FindStringSubmatch(m); sm != nil {
				m = sm[2]
			}
			msgs[i] = backquoted.ReplaceAllString(m, "a value")
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
