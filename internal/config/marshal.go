package config

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mlserve/mlserve/internal/schema"
)

// header starts every file Marshal writes.
const header = `mlserve pipeline file: each pipeline declares its data (schema), the model
it trains, when it retrains and when a new version replaces production.
Check it with "mlserve schema check PIPELINE FILE.csv"; every field is
described in docs/DESIGN.md (section 2).`

// Marshal writes f as an mlserve.yaml: defaults filled in so that every
// setting shows, columns one per line, short comments on what the settings
// mean. Parse reads the result back to f.WithDefaults(). Marshal does not
// validate f; call Validate first for a File built in code.
func Marshal(f *File) ([]byte, error) {
	f = f.WithDefaults()
	root := mapping()
	root.HeadComment = comment(header)
	pls := &yaml.Node{Kind: yaml.SequenceNode}
	for _, p := range f.Pipelines {
		pls.Content = append(pls.Content, pipelineNode(p))
	}
	add(root, "pipelines", pls)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode pipeline file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode pipeline file: %w", err)
	}
	return buf.Bytes(), nil
}

func pipelineNode(p Pipeline) *yaml.Node {
	task := p.Task()
	n := mapping()
	add(n, "name", str(p.Name), "[a-z][a-z0-9_]{0,62}; names the dataset table and the model")

	sch := mapping()
	target := str(p.Schema.Target)
	if task != "" {
		target.LineComment = comment("task: " + task.describe())
	}
	add(sch, "target", target)
	cols := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range p.Schema.Columns {
		cols.Content = append(cols.Content, columnNode(c))
	}
	add(sch, "columns", cols)
	add(n, "schema", sch)

	m := mapping()
	add(m, "algorithm", str(p.Model.Algorithm), strings.Join(DefaultAlgorithms, " | "))
	params := paramsNode(p.Model.Params)
	pc := ""
	if params.Style == yaml.FlowStyle {
		pc = "algorithm-specific settings" // a comment after a block mapping lands on the next key
	}
	add(m, "params", params, pc)
	add(m, "holdout", num(p.Model.Holdout), "fraction of rows kept for evaluation")
	add(m, "seed", integer(p.Model.Seed), "drives the holdout split and the algorithm")
	add(n, "model", m)

	t := mapping()
	sched := str(p.Train.Schedule)
	sched.Style = yaml.DoubleQuotedStyle
	add(t, "schedule", sched, `cron in UTC: minute hour day-of-month month day-of-week; "" = none`)
	add(t, "on_new_rows", integer(int64(p.Train.NewRows())), "retrain once this many rows arrived since the last training; 0 = off")
	add(t, "debounce", plain(p.Train.Debounce.String()), "after a trigger, wait this long to gather more rows")
	add(t, "min_rows", integer(int64(p.Train.MinRows)), "fewest rows to train on")
	add(n, "train", t)

	pr := mapping()
	mc := ""
	if task != "" {
		mc = task.describe() + ": " + strings.Join(Metrics(task), " | ")
	}
	add(pr, "metric", str(p.Promote.Metric), mc)
	if p.Promote.Min != nil {
		add(pr, "min", num(*p.Promote.Min), "never promote a version scoring below this")
	}
	add(pr, "must_beat_production", boolean(p.Promote.MustBeat()), "champion/challenger on the same holdout")
	add(n, "promote", pr)
	if p.Checks != (Checks{}) {
		ch := mapping()
		for _, c := range []struct {
			name string
			c    Check
		}{{"missing_rate", p.Checks.MissingRate}, {"levels", p.Checks.Levels}, {"psi", p.Checks.PSI}, {"class_balance", p.Checks.ClassBalance}, {"row_count", p.Checks.RowCount}} {
			if c.c == (Check{}) {
				continue
			}
			cn := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
			if c.c.Threshold != nil {
				add(cn, "threshold", num(*c.c.Threshold))
			}
			if c.c.Severity != "" {
				add(cn, "severity", str(c.c.Severity))
			}
			add(ch, c.name, cn)
		}
		add(n, "checks", ch)
	}
	return n
}

// columnNode writes a column as a flow mapping on one line, as the DESIGN
// example does, unless that line would be long.
func columnNode(c schema.Column) *yaml.Node {
	n := mapping()
	add(n, "name", str(c.Name))
	add(n, "type", str(string(c.Type)))
	width := len(c.Name) + len(c.Type) + 30
	if len(c.Values) > 0 {
		vals := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range c.Values {
			vals.Content = append(vals.Content, str(v))
			width += len(v) + 2
		}
		add(n, "values", vals)
	}
	if len(c.Aliases) > 0 {
		al := mapping()
		al.Style = yaml.FlowStyle
		keys := make([]string, 0, len(c.Aliases))
		for k := range c.Aliases {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			al.Content = append(al.Content, str(k), str(c.Aliases[k]))
			width += len(k) + len(c.Aliases[k]) + 4
		}
		add(n, "aliases", al)
	}
	if c.Unknown != "" {
		add(n, "unknown", str(c.Unknown))
		width += 16
	}
	if c.Min != nil {
		add(n, "min", num(*c.Min))
	}
	if c.Max != nil {
		add(n, "max", num(*c.Max))
	}
	if c.Nullable {
		add(n, "nullable", boolean(true))
	}
	if c.Ignore {
		add(n, "ignore", boolean(true))
	}
	if width <= 100 {
		n.Style = yaml.FlowStyle
	}
	return n
}

func paramsNode(p map[string]any) *yaml.Node {
	n := mapping()
	n.Style = yaml.FlowStyle
	if len(p) == 0 {
		return n
	}
	var v yaml.Node
	if err := v.Encode(p); err != nil || v.Kind != yaml.MappingNode {
		return n
	}
	flowLists(&v)
	flow := len(v.Content) <= 8 // up to 4 params on one line
	for _, c := range v.Content {
		if c.Kind == yaml.MappingNode {
			flow = false
		}
	}
	if flow {
		v.Style = yaml.FlowStyle
	}
	return &v
}

// flowLists writes every list below n on one line.
func flowLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		flowLists(c)
	}
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

// add appends key: value to mapping m, with an optional line comment.
func add(m *yaml.Node, key string, value *yaml.Node, lineComment ...string) {
	if len(lineComment) > 0 && lineComment[0] != "" {
		value.LineComment = comment(lineComment[0])
	}
	m.Content = append(m.Content, plain(key), value)
}

func comment(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n")
}

func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// str writes a string value: unquoted when YAML reads it back as the same
// text (numbers such as the labels 0 and 1 included, since string fields
// take a scalar's text), quoted otherwise (true, null, "a: b", "").
func str(s string) *yaml.Node {
	if looksNumeric(s) {
		return plain(s)
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func looksNumeric(s string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Value == s && c.Style == 0 &&
		(c.ShortTag() == "!!int" || c.ShortTag() == "!!float")
}

func num(f float64) *yaml.Node { return plain(strconv.FormatFloat(f, 'g', -1, 64)) }

func integer(i int64) *yaml.Node { return plain(strconv.FormatInt(i, 10)) }

func boolean(b bool) *yaml.Node { return plain(strconv.FormatBool(b)) }

// Examples lists the names Example knows.
var Examples = []string{"titanic"}

// Example returns a built-in example pipeline file, defaults filled in:
// "titanic" is the pipeline of docs/DESIGN.md §2 (mlserve up --demo and
// mlserve init --example titanic).
func Example(name string) (*File, error) {
	switch name {
	case "titanic":
		return titanic(), nil
	}
	return nil, fmt.Errorf("unknown example %q; the examples are %s", name, strings.Join(Examples, ", "))
}

func titanic() *File {
	p := Pipeline{
		Name: "titanic",
		Schema: schema.Schema{
			Target: "survived",
			Columns: []schema.Column{
				{Name: "survived", Type: schema.Category, Values: []string{"0", "1"}},
				{Name: "class", Type: schema.Category, Values: []string{"1", "2", "3"}},
				{Name: "sex", Type: schema.Category, Values: []string{"male", "female"}, Aliases: map[string]string{"M": "male", "F": "female"}},
				{Name: "age", Type: schema.Number, Min: Ptr(0.0), Max: Ptr(120.0), Nullable: true},
				{Name: "embarked", Type: schema.Category, Values: []string{"C", "S", "Q"}, Nullable: true},
			},
		},
		Model: Model{Algorithm: "logistic", Params: map[string]any{}, Holdout: 0.2, Seed: 42},
		Train: Train{
			Schedule:  "0 3 * * *",
			OnNewRows: Ptr(100),
			Debounce:  Duration(DefaultDebounce),
			MinRows:   50,
		},
		Promote: Promote{Metric: "roc_auc", Min: Ptr(0.70), MustBeatProduction: Ptr(true)},
	}
	return &File{Pipelines: []Pipeline{p}}
}
