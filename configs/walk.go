package configs

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work of walking one document, aliases included, so a
// file of nested aliases cannot make loading explode.
const maxNodes = 200_000

// walker decodes a YAML node tree into the config structs field by field,
// recording where every field is written and reporting each unknown key,
// duplicate key and type mismatch with its exact path, all in one pass.
type walker struct {
	pos   positions
	probs *collector
	nodes int
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode stores n into v, which must be addressable; path names v.
func (w *walker) decode(n *yaml.Node, v reflect.Value, path string) {
	w.nodes++
	if w.nodes == maxNodes {
		w.fail(n, path, "the document is too large or has too many aliases")
	}
	if w.nodes >= maxNodes {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			w.fail(n, path, "unresolved alias")
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // leave the zero value
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			w.fail(n, path, cleanYAMLError(err))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		w.decodeStruct(n, v, path)
	case reflect.Slice:
		w.decodeSlice(n, v, path)
	case reflect.Map:
		w.decodeMap(n, v, path)
	case reflect.String, reflect.Int, reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			w.fail(n, path, fmt.Sprintf("must be %s, got %s", describeKind(v.Kind()), describeNode(n)))
			return
		}
		// yaml would truncate 1.5 to 1 in an int: only integers go there.
		if v.Kind() == reflect.Int && n.Tag != "!!int" {
			w.fail(n, path, fmt.Sprintf("must be %s, got %s", describeKind(v.Kind()), describeNode(n)))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			w.fail(n, path, fmt.Sprintf("must be %s, got %s", describeKind(v.Kind()), describeNode(n)))
		}
	default:
		w.fail(n, path, fmt.Sprintf("cannot decode into %s", v.Type()))
	}
}

// decodeStruct decodes a mapping into a struct, by yaml tag.
func (w *walker) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "must be a mapping of keys to values, got "+describeNode(n))
		return
	}
	fields := yamlFields(v.Type())
	w.eachPair(n, path, func(key, val *yaml.Node) {
		i, ok := fields[key.Value]
		child := fieldPath(path, key.Value)
		if !ok {
			child = keyPath(path, key.Value) // quoted unless plain: it may hold any character
			w.pos[child] = position{key.Line, key.Column}
			w.probs.addAt(key.Line, key.Column, child, "unknown field (known fields here: "+strings.Join(sortedKeys(fields), ", ")+")")
			return
		}
		w.pos[child] = position{key.Line, key.Column}
		w.decode(val, v.Field(i), child)
	})
}

// decodeSlice decodes a sequence into a slice.
func (w *walker) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "must be a list, got "+describeNode(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		child := indexPath(path, i)
		w.pos[child] = position{item.Line, item.Column}
		w.decode(item, s.Index(i), child)
	}
	v.Set(s)
}

// decodeMap decodes a mapping into a map with string keys.
func (w *walker) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "must be a mapping of keys to values, got "+describeNode(n))
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	w.eachPair(n, path, func(key, val *yaml.Node) {
		child := keyPath(path, key.Value)
		w.pos[child] = position{key.Line, key.Column}
		elem := reflect.New(v.Type().Elem()).Elem()
		w.decode(val, elem, child)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	})
	v.Set(m)
}

// eachPair calls fn for each key/value pair of a mapping node, reporting
// non-scalar keys, merge keys and duplicate keys instead of passing them on.
func (w *walker) eachPair(n *yaml.Node, path string, fn func(key, val *yaml.Node)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.AliasNode && key.Alias != nil {
			key = key.Alias
		}
		if key.Kind != yaml.ScalarNode {
			w.probs.addAt(key.Line, key.Column, path, "mapping keys must be plain strings, got "+describeNode(key))
			continue
		}
		if key.Tag == "!!merge" {
			w.probs.addAt(key.Line, key.Column, path, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if first, dup := seen[key.Value]; dup {
			child := keyPath(path, key.Value)
			w.probs.addAt(key.Line, key.Column, child, fmt.Sprintf("duplicate key %q: already defined at line %d", key.Value, first))
			continue
		}
		seen[key.Value] = key.Line
		fn(key, val)
	}
}

// fail reports a problem at node n for path and stops later checks of path.
func (w *walker) fail(n *yaml.Node, path, msg string) {
	w.probs.addAt(n.Line, n.Column, path, msg)
	w.probs.markBroken(path)
}

// yamlFields maps yaml key names to struct field indexes.
func yamlFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		fields[name] = i
	}
	return fields
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describeKind names what a Go kind expects, for messages.
func describeKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	}
	return k.String()
}

// describeNode names what a YAML node holds, for messages. It never quotes
// the node's value, which might be a password.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!str":
		return "a string"
	case "!!int":
		return "a whole number"
	case "!!float":
		return "a decimal number"
	case "!!bool":
		return "true/false"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return "a value tagged " + strconv.Quote(n.Tag)
}
