package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseOptions tune what a valid pipeline file is. The zero value accepts
// DefaultAlgorithms and checks no algorithm params.
type ParseOptions struct {
	// Algorithms are the accepted values of model.algorithm; empty means
	// DefaultAlgorithms.
	Algorithms []string
	// CheckModel, when set, checks a pipeline's model settings (whether the
	// algorithm solves the task, its params). Its error is reported at the
	// line of model.params, or of model.algorithm when there are no params.
	// When Algorithms is empty, the built-in rule applies first: logistic
	// is for classification, linear for regression.
	CheckModel func(algorithm string, task Task, params map[string]any) error
}

// Load reads and parses the pipeline file at path with default options.
func Load(path string) (*File, error) { return ParseOptions{}.Load(path) }

// Parse parses a pipeline file with default options; name is the file name
// that error messages show.
func Parse(name string, data []byte) (*File, error) { return ParseOptions{}.Parse(name, data) }

// Load reads and parses the pipeline file at path.
func (o ParseOptions) Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read pipeline file: %w; write one with \"mlserve init\" or point --config at it", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	return o.Parse(path, data)
}

// Parse decodes a pipeline file strictly, validates it and fills in the
// defaults. Every problem is reported, each with its line, in an ErrorList.
func (o ParseOptions) Parse(name string, data []byte) (*File, error) {
	d := &decoder{
		file: name,
		keys: map[string]*yaml.Node{},
		vals: map[string]*yaml.Node{},
	}
	root, err := d.parseYAML(data)
	if err != nil {
		return nil, err
	}
	var f File
	d.decode("", "the top level", root, reflect.ValueOf(&f).Elem())
	v := &validator{opts: o, file: name, d: d, errs: d.errs}
	v.file0(&f)
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return f.WithDefaults(), nil
}

// parseYAML parses data into its single document's root node (nil for an
// empty file) or returns the syntax error with its line.
func (d *decoder) parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, ErrorList{syntaxError(d.file, data, err)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, ErrorList{{File: d.file, Line: next.Line, Msg: "a second YAML document starts here (---); put every pipeline in one document under pipelines:"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, ErrorList{syntaxError(d.file, data, err)}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return nil, nil
}

// decoder walks the YAML node tree alongside the Go value it fills, so that
// each problem is reported at its own node, and remembers the node of each
// path for the checks that follow.
type decoder struct {
	file string
	errs ErrorList
	keys map[string]*yaml.Node // path -> key node of a mapping field
	vals map[string]*yaml.Node // path -> value node
	bad  []string              // paths whose value could not be decoded
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// typeError reports that the value at path is not what it must be.
func (d *decoder) typeError(n *yaml.Node, path, label, want string) {
	d.bad = append(d.bad, path)
	msg := fmt.Sprintf("%s must be %s, not %s", label, want, describeNode(n))
	if h := hints[lastKey(path)]; h != "" {
		msg += "; " + h
	}
	d.errorf(n, path, "%s", msg)
}

// hints say how to write a field's value, after a type error.
var hints = map[string]string{
	"pipelines":            "write a list of pipelines, each starting with \"- name: ...\"",
	"holdout":              "write a fraction such as 0.2",
	"seed":                 "write a whole number such as 42",
	"params":               "write a mapping of name: value such as {max_depth: 3}, or {} for none",
	"schedule":             "write a cron expression in quotes such as \"0 3 * * *\"",
	"on_new_rows":          "write a whole number of rows such as 100, or 0 to turn the trigger off",
	"debounce":             "write a duration such as 30s or 5m",
	"min_rows":             "write a whole number such as 50",
	"min":                  "write a number such as 0.7",
	"max":                  "write a number such as 120",
	"must_beat_production": "write true or false",
	"confidence":           "write a share such as 0.9, or 0 for a plain comparison",
	"min_category_rows":    "write a whole number of rows such as 20, or 0 to turn the rule off",
	"nullable":             "write true or false",
	"ignore":               "write true or false",
	"values":               "write a list such as [a, b, c]",
	"aliases":              "write a mapping from spelling to value such as {M: male, F: female}",
	"unknown":              "write reject or other",
	"columns":              "write a list of columns such as - {name: age, type: number}",
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}

// describeNode names what a node holds, for "must be X, not Y".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return strconv.Quote(n.Value)
		case "!!null":
			return "empty"
		}
		return n.Value
	}
	return "this"
}

var durationType = reflect.TypeFor[Duration]()

// decode fills v from n. path locates n ("pipelines[0].model"); label names
// it in messages ("model.holdout", `min of column "age"`).
func (d *decoder) decode(path, label string, n *yaml.Node, v reflect.Value) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.vals[path] = n
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // absent: leave the zero value, which means "the default"
	}
	t := v.Type()
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			d.typeError(n, path, label, "a duration")
			return
		}
		dur, err := parseDuration(n.Value)
		if err != nil {
			d.bad = append(d.bad, path)
			d.errorf(n, path, "%s: %v", label, err)
			return
		}
		v.SetInt(int64(dur))
	case t.Kind() == reflect.Pointer:
		e := reflect.New(t.Elem())
		d.decode(path, label, n, e.Elem())
		if !d.isBad(path) {
			v.Set(e)
		}
	case t.Kind() == reflect.Struct:
		d.decodeStruct(path, label, n, v)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.typeError(n, path, label, "a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			ilabel := fmt.Sprintf("item %d of %s", i+1, label)
			if t.Elem().Kind() == reflect.Struct {
				ilabel = itemLabel(t.Elem(), item, i)
			}
			if t.Elem().Kind() == reflect.String && isNull(item) {
				d.bad = append(d.bad, ipath)
				d.errorf(item, ipath, "%s is empty; remove it or write a value", ilabel)
				continue
			}
			d.decode(ipath, ilabel, item, s.Index(i))
		}
		v.Set(s)
	case t.Kind() == reflect.Map:
		d.decodeMap(path, label, n, v)
	default:
		d.decodeScalar(path, label, n, v)
	}
}

func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// itemLabel names an element of a list of structs: a pipeline or a column,
// by its name when it has one.
func itemLabel(t reflect.Type, n *yaml.Node, i int) string {
	kind := "pipeline"
	if t.Name() == "Column" {
		kind = "column"
	}
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "name" && n.Content[j+1].Kind == yaml.ScalarNode && n.Content[j+1].Value != "" {
				return fmt.Sprintf("%s %q", kind, n.Content[j+1].Value)
			}
		}
	}
	return fmt.Sprintf("%s %d", kind, i+1)
}

// fieldLabel names field key of the struct labelled label: "model.holdout",
// `min of column "age"`, "name of pipeline 2", "pipelines".
func fieldLabel(label, key string) string {
	switch {
	case label == "the top level":
		return key
	case strings.HasPrefix(label, "pipeline "):
		if key == "name" {
			return "name of " + label
		}
		return key
	case strings.HasPrefix(label, "column "):
		return key + " of " + label
	}
	return label + "." + key
}

type field struct {
	name  string
	index int
}

func structFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, field{name, i})
	}
	return out
}

func (d *decoder) decodeStruct(path, label string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, path, label, "a mapping of field: value")
		return
	}
	fields := structFields(v.Type())
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	seen := map[string]*yaml.Node{}
	var typos []string // fields that unknown keys look like misspellings of
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		fpath := join(path, key)
		if first, dup := seen[key]; dup {
			d.errorf(k, fpath, "%s is set twice in %s (first at line %d); keep one", key, label, first.Line)
			continue
		}
		seen[key] = k
		j := -1
		for fi, f := range fields {
			if f.name == key {
				j = fi
			}
		}
		if j < 0 {
			d.errorf(k, fpath, "%s", unknownField(key, label, names))
			if s := suggest(key, names); s != "" {
				typos = append(typos, s)
			}
			continue
		}
		d.keys[fpath] = k
		d.decode(fpath, fieldLabel(label, key), val, v.Field(fields[j].index))
	}
	// A misspelt field is missing from the decoded value; checking it would
	// report the typo a second time ("holdut" unknown, then holdout unset).
	for _, t := range typos {
		if _, set := seen[t]; !set {
			d.bad = append(d.bad, join(path, t))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func unknownField(key, label string, known []string) string {
	where := "in " + label
	if label == "the top level" {
		where = "at the top level"
	}
	if key == "<<" {
		return fmt.Sprintf("merge keys (<<) are not supported %s; write the fields out", where)
	}
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown field %q %s; did you mean %q?", key, where, s)
	}
	return fmt.Sprintf("unknown field %q %s; the fields are %s", key, where, strings.Join(known, ", "))
}

func (d *decoder) decodeMap(path, label string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.typeError(n, path, label, "a mapping")
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.bad = append(d.bad, path)
			d.errorf(k, path, "a key of %s is %s; keys must be plain names", label, describeNode(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, path, "%q is set twice in %s (first at line %d); keep one", k.Value, label, first.Line)
			continue
		}
		seen[k.Value] = k
		kpath := path + "." + k.Value
		d.keys[kpath] = k
		e := reflect.New(t.Elem()).Elem()
		if t.Elem().Kind() == reflect.Interface {
			var x any
			if err := val.Decode(&x); err != nil {
				d.bad = append(d.bad, kpath)
				d.errorf(val, kpath, "%s of %s cannot be read: %s", k.Value, label, yamlMessage(err))
				continue
			}
			if x != nil {
				e.Set(reflect.ValueOf(x))
			}
		} else {
			if isNull(val) {
				d.bad = append(d.bad, kpath)
				d.errorf(val, kpath, "%q of %s has no value; write one", k.Value, label)
				continue
			}
			d.decode(kpath, fmt.Sprintf("%q of %s", k.Value, label), val, e)
		}
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), e)
	}
	v.Set(m)
}

// decodeScalar fills a string, number or boolean. YAML's own conversions are
// too lenient here (it truncates 50.5 into an int), so the rules are ours:
// strings take any scalar's text, numbers must be numbers, whole numbers
// whole, booleans true or false.
func (d *decoder) decodeScalar(path, label string, n *yaml.Node, v reflect.Value) {
	want := map[reflect.Kind]string{
		reflect.String: "a single value", reflect.Bool: "true or false",
		reflect.Float64: "a number", reflect.Int: "a whole number", reflect.Int64: "a whole number",
	}[v.Kind()]
	if n.Kind != yaml.ScalarNode {
		d.typeError(n, path, label, want)
		return
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return
	case reflect.Bool:
		if tag == "!!bool" {
			var b bool
			if n.Decode(&b) == nil {
				v.SetBool(b)
				return
			}
		}
	case reflect.Float64:
		if tag == "!!int" || tag == "!!float" {
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				v.SetFloat(f)
				return
			}
			want = "a finite number"
		}
	case reflect.Int, reflect.Int64:
		var i int64
		if tag == "!!int" && n.Decode(&i) == nil && !v.OverflowInt(i) {
			v.SetInt(i)
			return
		}
		var f float64
		if tag == "!!float" && n.Decode(&f) == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			v.SetInt(int64(f)) // 1e3, 50.0
			return
		}
	default:
		d.typeError(n, path, label, "something else")
		return
	}
	d.typeError(n, path, label, want)
}

// isBad reports whether the value at path, inside it or around it failed to
// decode: such a value is reported already and is not checked further.
func (d *decoder) isBad(path string) bool {
	if d == nil {
		return false
	}
	within := func(a, b string) bool { // a is b or inside it
		return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[")
	}
	for _, b := range d.bad {
		if b == "" || within(b, path) || within(path, b) {
			return true
		}
	}
	return false
}

// present reports whether the file sets path to a non-empty value.
func (d *decoder) present(path string) bool {
	if d == nil {
		return false
	}
	n, ok := d.vals[path]
	return ok && !isNull(n)
}

// line returns the line of path: its key when it is a field, else its
// value, else the line of the nearest enclosing node; 0 when unknown.
func (d *decoder) line(path string) int {
	if d == nil {
		return 0
	}
	for {
		if k, ok := d.keys[path]; ok {
			return k.Line
		}
		if n, ok := d.vals[path]; ok {
			return n.Line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			if n, ok := d.vals[""]; ok && path != "" {
				return n.Line
			}
			return 0
		}
		path = path[:i]
	}
}

// valueLine returns the line of path's value (where a list or mapping
// starts), falling back to line.
func (d *decoder) valueLine(path string) int {
	if d != nil {
		if n, ok := d.vals[path]; ok {
			return n.Line
		}
	}
	return d.line(path)
}

// badPaths returns the paths whose value failed to decode.
func (d *decoder) badPaths() []string {
	if d == nil {
		return nil
	}
	return d.bad
}
