package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// source is one parsed file and the line of every field path found in it.
type source struct {
	file  string
	lines map[string]int  // "targets[1].tls.ca_file" -> line of its key
	nulls map[string]bool // paths written without a value ("timeout:")
}

// has reports whether path was written in the file with a value; defaults
// fill what has not, so an explicit "max_redirects: 0" stays 0.
func (s *source) has(path string) bool {
	_, ok := s.lines[path]
	return ok && !s.nulls[path]
}

// lineOf returns the line of path, or of its closest written ancestor: a
// missing targets[2].name points at targets[2].
func (s *source) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			return l
		}
	}
	return 0
}

// parentPath strips the last segment: a.b[2] -> a.b -> a. Paths built by
// validation end in plain names or indexes; quoted map keys only occur in
// paths the walk recorded, which lineOf finds before trimming.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// childPath appends a mapping key: a.b, or a["odd key"] when the key is not
// a plain word.
func childPath(parent, key string) string {
	if !plainKey.MatchString(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// decodeFile parses data strictly into out (a pointer to a struct). yaml.v3
// stops at the first error a custom unmarshaler returns (model.Duration,
// TLSConfig) and reports lines without fields, so a walk over the node tree
// against out's type first reports every problem with its path; the strict
// decode then fills the structs. It returns the file's positions and whether
// decoding succeeded.
func (l *loader) decodeFile(file string, data []byte, out any) (*source, bool) {
	src := &source{file: file, lines: map[string]int{}, nulls: map[string]bool{}}
	if e := l.textError(file, data, out); e != nil {
		l.add(e)
		return src, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root, extra yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return src, true // empty file
		}
		l.add(syntaxError(file, data, err))
		return src, false
	}
	if err := dec.Decode(&extra); err == nil {
		l.add(&Error{File: file, Line: extra.Line, Msg: "a second YAML document; a file holds one document"})
		return src, false
	} else if !errors.Is(err, io.EOF) {
		l.add(syntaxError(file, data, err))
		return src, false
	}

	before := l.problems()
	w := walker{l: l, src: src, active: map[*yaml.Node]bool{}, budget: cmp.Or(l.maxVisits, defaultMaxVisits+len(data))}
	if _, ok := out.(*targetFile); ok {
		w.mainOnly = yamlFields(reflect.TypeOf(Config{}))
	}
	for _, n := range root.Content {
		w.value(n, reflect.TypeOf(out).Elem(), "")
	}
	if l.problems() > before {
		return src, false
	}

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		// The walk should have caught everything; keep yaml's words if not.
		l.decodeErrors(src, err)
		return src, false
	}
	return src, true
}

// textError reports the first character YAML cannot read, invalid UTF-8
// or a control character, with its line, column and (when the rest of the
// file parses) field: yaml.v3 reports them without a line. A file starting
// with a UTF-16 byte order mark is left to yaml.v3.
func (l *loader) textError(file string, data []byte, out any) *Error {
	if isUTF16(data) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		what := ""
		switch {
		case r == utf8.RuneError && size == 1:
			what = fmt.Sprintf("byte %#02x is not valid UTF-8", data[i])
		case !yamlChar(r):
			what = fmt.Sprintf("control character %U is not allowed", r)
		}
		if what != "" {
			return &Error{File: file, Line: line, Field: l.fieldOn(file, data, out, line),
				Msg: fmt.Sprintf("%s (column %d); a configuration file is UTF-8 text", what, col)}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// fieldOn returns the field written on line once every character YAML
// cannot read is replaced, or "".
func (l *loader) fieldOn(file string, data []byte, out any, line int) string {
	clean := make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 || !yamlChar(r) {
			clean = utf8.AppendRune(clean, utf8.RuneError)
		} else {
			clean = append(clean, data[i:i+size]...)
		}
		i += size
	}
	scratch := &loader{maxVisits: l.maxVisits}
	src, _ := scratch.decodeFile(file, clean, reflect.New(reflect.TypeOf(out).Elem()).Interface())
	return src.fieldAt(line, "")
}

// yamlChar reports whether YAML allows r in a file (YAML 1.2 c-printable,
// as yaml.v3's reader checks it).
func yamlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

// isUTF16 reports whether data starts with a UTF-16 byte order mark.
func isUTF16(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe})
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

var unknownAnchor = regexp.MustCompile(`^(?:yaml: )?unknown anchor '(.*)' referenced$`)

// syntaxError turns "yaml: line 3: mapping values are not allowed in this
// context" into FILE:3: mapping values ... data, the file's text, helps
// place the errors yaml.v3 places badly or not at all; it may be nil.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg = m[2]
		switch {
		case strings.HasPrefix(msg, "did not find expected"):
			// yaml.v3 numbers parser errors from 0 and places them at the
			// start of the enclosing block, not at the offending line.
			line++
			msg += " (in the block starting on this line)"
		case msg == "found a tab character that violates indentation":
			// Placed at the start of the value the tab interrupts.
			if l := tabIndentedLine(data, line); l > 0 {
				line = l
			}
		}
		return &Error{File: file, Line: line, Msg: msg}
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		// yaml.v3 gives no line for an alias to an anchor never defined.
		return &Error{File: file, Line: aliasLine(data, m[1]), Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line := 0
	if data != nil && !isUTF16(data) {
		// yaml.v3 leaves out "line 1" (its line 0); textError has already
		// caught the reader's errors, which have no line at all.
		line = 1
	}
	return &Error{File: file, Line: line, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// tabIndentedLine returns the first line from line on whose indentation
// holds a tab, or 0.
func tabIndentedLine(data []byte, line int) int {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 < line {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if strings.Contains(indent, "\t") {
			return i + 1
		}
	}
	return 0
}

// aliasLine returns the line of the first alias *name in data, or 0.
func aliasLine(data []byte, name string) int {
	re, err := regexp.Compile(`(?m)(?:^|[\s\[{,:])\*` + regexp.QuoteMeta(name) + `(?:[\s\]},]|$)`)
	if err != nil {
		return 0
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	at := loc[0]
	if data[at] != '*' {
		at++ // the character before the alias
	}
	return bytes.Count(data[:at], []byte("\n")) + 1
}

var notFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// decodeErrors rewrites yaml's own errors ("line 5: field foo not found in
// type config.Target") into FILE:LINE: FIELD: message, finding the field
// from the line.
func (l *loader) decodeErrors(src *source, err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		l.add(syntaxError(src.file, nil, err))
		return
	}
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			l.add(&Error{File: src.file, Msg: e})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg, key := m[2], ""
		if f := notFound.FindStringSubmatch(msg); f != nil {
			key, msg = f[1], fmt.Sprintf("unknown field %q", f[1])
		}
		l.add(&Error{File: src.file, Line: line, Field: src.fieldAt(line, key), Msg: msg})
	}
}

// fieldAt returns the deepest path written on line, preferring one ending in
// key when key is set.
func (s *source) fieldAt(line int, key string) string {
	best := ""
	for p, l := range s.lines {
		if l != line {
			continue
		}
		if key != "" && (p == key || strings.HasSuffix(p, "."+key)) {
			return p
		}
		if len(p) > len(best) || (len(p) == len(best) && p < best) {
			best = p
		}
	}
	if key != "" {
		return childPath(best, key)
	}
	return best
}

var (
	unmarshalerType         = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	obsoleteUnmarshalerType = reflect.TypeOf((*interface {
		UnmarshalYAML(func(any) error) error
	})(nil)).Elem()
	durationType  = reflect.TypeOf(model.Duration(0))
	tlsConfigType = reflect.TypeOf(config.TLSConfig{})
	basicAuthType = reflect.TypeOf(config.BasicAuth{})
	oauth2Type    = reflect.TypeOf(config.OAuth2{})
	secretType    = reflect.TypeOf(config.Secret(""))
)

// defaultMaxVisits bounds the walk, which expands aliases: a list of
// aliases to a large value stands for many more nodes than the file holds.
// A file's own size is added to it, so a large file without aliases is
// never cut short. Every value and every mapping entry counts.
const defaultMaxVisits = 1 << 20

// maxDepth bounds how deep the walk nests. The schema is a few levels
// deep; only chains of aliases and merges (<<) go deeper, and each level
// is a frame on the stack.
const maxDepth = 64

// walker checks a node tree against the Go type yaml.v3 will decode it into,
// the way yaml.v3 does, recording the line of every path on the way.
type walker struct {
	l      *loader
	src    *source
	active map[*yaml.Node]bool // nodes being walked, to stop alias cycles
	visits int
	budget int // visits allowed
	depth  int // values being walked
	// mainOnly, in a target file, are the top-level fields only the main
	// file may set.
	mainOnly map[string]reflect.Type
}

// enter resolves aliases and reports whether n may be walked: not part of
// an alias cycle and within the budget. leave must follow a true answer.
func (w *walker) enter(n *yaml.Node, path string) (*yaml.Node, bool) {
	line := n.Line
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if w.l.stop() {
		return n, false // nothing more would be reported
	}
	if !w.spend(1, line, path) {
		return n, false
	}
	if w.active[n] {
		w.errorf(line, path, "an alias refers to the value that contains it")
		return n, false
	}
	if w.depth >= maxDepth {
		w.errorf(w.lineOf(path, line), path, "nested more than %d levels deep (through aliases or merges)", maxDepth)
		return n, false
	}
	w.active[n] = true
	w.depth++
	return n, true
}

func (w *walker) leave(n *yaml.Node) {
	delete(w.active, n)
	w.depth--
}

// spend counts n visits and reports whether they fit the budget; the
// first visit past it is reported.
func (w *walker) spend(n, line int, path string) bool {
	if w.visits >= w.budget {
		return false
	}
	if w.visits += n; w.visits >= w.budget {
		w.errorf(w.lineOf(path, line), path, "aliases expand to more than %d values", w.budget)
		return false
	}
	return true
}

// lineOf is the line of path when the walk has seen it, else line: an
// expansion that went too far is reported where the value using it is
// written, not at an alias deep inside.
func (w *walker) lineOf(path string, line int) int {
	if l, ok := w.src.lines[path]; ok {
		return l
	}
	return line
}

func (w *walker) errorf(line int, path, format string, args ...any) {
	w.l.add(&Error{File: w.src.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

func (w *walker) value(n *yaml.Node, t reflect.Type, path string) {
	n, ok := w.enter(n, path)
	if !ok {
		return
	}
	defer w.leave(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		w.src.nulls[path] = true
		return // yaml leaves the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == tlsConfigType {
		// TLSConfig decodes through a plain copy of itself and then validates:
		// walk its fields like any struct's, and check the certificate/key
		// pairs first so that message names the field.
		before := w.l.problems()
		w.structure(n, t, path)
		if w.l.problems() > before || !w.tlsPairs(n, path) {
			return
		}
	}
	if t == secretType {
		t = reflect.TypeOf("") // a Secret is a string that hides itself
	}
	if t == basicAuthType || t == oauth2Type {
		// Like TLSConfig: a plain copy of itself, then validation (in
		// checkClient); walking the fields names the one that is wrong.
		before := w.l.problems()
		w.structure(n, t, path)
		if w.l.problems() > before {
			return
		}
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.errorf(n.Line, path, "%s", leafMessage(t, n, err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		w.structure(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.errorf(n.Line, path, "must be a list, not %s", describe(n))
			return
		}
		for i, item := range n.Content {
			if w.l.stop() {
				return
			}
			p := indexPath(path, i)
			w.src.lines[p] = item.Line
			w.value(item, t.Elem(), p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.errorf(n.Line, path, "must be a mapping, not %s", describe(n))
			return
		}
		for _, kv := range w.pairs(n, path) {
			if w.l.stop() {
				return
			}
			if kv.key.Kind != yaml.ScalarNode {
				w.errorf(kv.key.Line, path, "keys must be strings, not %s", describe(kv.key))
				continue
			}
			p := childPath(path, kv.key.Value)
			w.src.lines[p] = kv.key.Line
			w.value(kv.val, t.Elem(), p)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.errorf(n.Line, path, "must be a single value, not %s", describe(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			w.errorf(n.Line, path, "%s", leafMessage(t, n, err))
		}
	}
}

// structure checks a mapping against a struct's yaml fields.
func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.errorf(n.Line, path, "must be a mapping, not %s", describe(n))
		return
	}
	fields := yamlFields(t)
	for _, kv := range w.pairs(n, path) {
		if w.l.stop() {
			return
		}
		p := childPath(path, kv.key.Value)
		w.src.lines[p] = kv.key.Line
		ft, ok := fields[kv.key.Value]
		if !ok {
			if _, main := w.mainOnly[kv.key.Value]; main && path == "" {
				w.errorf(kv.key.Line, p, "unknown field %q: a target file holds only targets; %s belongs in the main file", kv.key.Value, kv.key.Value)
				continue
			}
			w.errorf(kv.key.Line, p, "unknown field %q%s", kv.key.Value, suggest(kv.key.Value, fields))
			continue
		}
		w.value(kv.val, ft, p)
	}
}

type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's entries with YAML merge keys (<<: *defaults)
// expanded; written keys win over merged ones. A key written twice is an
// error.
func (w *walker) pairs(n *yaml.Node, path string) []pair {
	// A mapping merged through many aliases is listed once per use.
	if !w.spend(len(n.Content)/2, n.Line, path) {
		return nil
	}
	var out, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, w.mergePairs(v, path)...)
			continue
		}
		if k.Kind == yaml.ScalarNode {
			if first, dup := seen[k.Value]; dup {
				w.errorf(k.Line, childPath(path, k.Value), "key %q written twice (first at line %d)", k.Value, first)
				continue
			}
			seen[k.Value] = k.Line
		}
		out = append(out, pair{k, v})
	}
	for _, kv := range merged {
		if _, written := seen[kv.key.Value]; !written {
			seen[kv.key.Value] = kv.key.Line
			out = append(out, kv)
		}
	}
	return out
}

func (w *walker) mergePairs(v *yaml.Node, path string) []pair {
	v, ok := w.enter(v, path)
	if !ok {
		return nil
	}
	defer w.leave(v)
	switch v.Kind {
	case yaml.MappingNode:
		return w.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, m := range v.Content {
			out = append(out, w.mergePairs(m, path)...)
		}
		return out
	}
	w.errorf(v.Line, path, "a merge (<<) needs a mapping, not %s", describe(v))
	return nil
}

// tlsPairs checks that a client certificate and its key come together before
// TLSConfig's own validation, so the message names the field.
func (w *walker) tlsPairs(n *yaml.Node, path string) bool {
	set := map[string]int{}
	for _, kv := range w.pairs(n, path) {
		if kv.val.Kind != yaml.ScalarNode || kv.val.Value != "" {
			set[kv.key.Value] = kv.key.Line
		}
	}
	ok := true
	check := func(have, want []string) {
		for _, h := range have {
			line, found := set[h]
			if !found {
				continue
			}
			for _, x := range want {
				if _, f := set[x]; f {
					return
				}
			}
			w.errorf(line, childPath(path, h), "needs %s as well", orList(want))
			ok = false
			return
		}
	}
	check([]string{"cert_file", "cert", "cert_ref"}, []string{"key_file", "key", "key_ref"})
	check([]string{"key_file", "key", "key_ref"}, []string{"cert_file", "cert", "cert_ref"})
	return ok
}

// suggest returns " (did you mean x?)" for the field closest to a mistyped
// key, or nothing when none is close.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3 // at most two edits away
	for name := range fields {
		if diff := len(key) - len(name); diff > bestDist || -diff > bestDist {
			continue // too far apart in length alone; a huge key costs nothing
		}
		if d := editDistance(key, name); d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlFields maps the yaml names of t's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			maps.Copy(out, yamlFields(f.Type)) // its fields are the parent's
			continue
		}
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// leafMessage says why a single value did not decode into t.
func leafMessage(t reflect.Type, n *yaml.Node, err error) string {
	if t == durationType {
		return fmt.Sprintf("%q is not a duration such as 30s or 1m30s", n.Value)
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("%q is not an integer", n.Value)
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("%q is not a number", n.Value)
	case reflect.Bool:
		return fmt.Sprintf("%q is not true or false", n.Value)
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		if m := yamlLine.FindStringSubmatch(e); m != nil {
			e = m[2]
		}
		msgs[i] = e
	}
	return strings.Join(msgs, "; ")
}

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "this"
}
