package selector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Field is a dotted path to one value of a JSON document: "pools.web.busy",
// or "workers.0.busy" for an element of an array.
type Field struct {
	path []string
	text string
}

func (f Field) String() string { return f.text }

// ParseField parses a dotted path; no element may be empty.
func ParseField(text string) (Field, error) {
	if text == "" {
		return Field{}, errors.New("empty path")
	}
	path := strings.Split(text, ".")
	for _, p := range path {
		if p == "" {
			return Field{}, errors.New("empty path element")
		}
	}
	return Field{path: path, text: text}, nil
}

// Lookup walks doc, a document as encoding/json decodes it into an any
// (objects are map[string]any, arrays []any), and returns the value at the
// path. An error names the part of the path that could not be followed.
func (f Field) Lookup(doc any) (any, error) {
	if len(f.path) == 0 {
		return nil, errors.New("empty path")
	}
	v := doc
	for i, p := range f.path {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[p]
			if !ok {
				return nil, fmt.Errorf("no %s", f.at(i+1))
			}
			v = next
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(node) {
				return nil, fmt.Errorf("%s is an array of %d, %q is no index in it", f.at(i), len(node), p)
			}
			v = node[n]
		default:
			return nil, fmt.Errorf("%s is not an object or array", f.at(i))
		}
	}
	return v, nil
}

// at names the value at the path's first n elements.
func (f Field) at(n int) string {
	if n == 0 {
		return "the document"
	}
	return strconv.Quote(strings.Join(f.path[:n], "."))
}
