package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/mlserve/mlserve/internal/schema"
)

// Validate checks a File built in code with default options. Parse and
// Load already validate what they return.
func Validate(f *File) error { return ParseOptions{}.Validate(f) }

// Validate checks a File built in code, zero fields meaning their defaults.
// Its errors carry no line.
func (o ParseOptions) Validate(f *File) error {
	v := &validator{opts: o}
	v.file0(f)
	return v.errs.err()
}

// validator checks decoded values. d, when set, knows the node of each path
// (for lines), which fields the file sets, and which failed to decode (those
// are not checked again).
type validator struct {
	opts ParseOptions
	file string
	d    *decoder
	errs ErrorList
}

// add reports a problem at the line of path's key.
func (v *validator) add(path, format string, args ...any) {
	v.addAt(v.d.line(path), path, format, args...)
}

func (v *validator) addAt(line int, path, format string, args ...any) {
	if v.d.isBad(path) {
		return
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) file0(f *File) {
	if len(f.Pipelines) == 0 {
		v.add("pipelines", "the file has no pipelines; add a pipelines: list with at least one pipeline (mlserve init writes an example)")
	}
	names := map[string]int{}
	for i, p := range f.Pipelines {
		v.pipeline(fmt.Sprintf("pipelines[%d]", i), i, p, names)
	}
}

func (v *validator) pipeline(base string, i int, p Pipeline, names map[string]int) {
	switch {
	case p.Name == "":
		v.addAt(v.d.valueLine(base), base+".name", "pipeline %d has no name; add name: with lowercase letters, digits and _ (e.g. name: sales)", i+1)
	case !ValidName(p.Name):
		msg := fmt.Sprintf("pipeline name %q is not valid: it names a database table, so it must start with a lowercase letter and hold only lowercase letters, digits and _ (at most 63 characters)", p.Name)
		if fixed := FixName(p.Name); fixed != "" {
			msg += fmt.Sprintf("; try %q", fixed)
		}
		v.add(base+".name", "%s", msg)
	}
	if ValidName(p.Name) {
		if first, dup := names[p.Name]; dup {
			v.add(base+".name", "pipeline name %q is used twice (first at line %d); give each pipeline its own name", p.Name, v.d.line(fmt.Sprintf("pipelines[%d].name", first)))
		} else {
			names[p.Name] = i
		}
	}
	task, ok := v.schema(base, p.Schema)
	v.model(base+".model", p.Model, task, ok)
	v.train(base+".train", p.Train)
	v.promote(base+".promote", p.Promote, task, p.Schema, ok)
	v.checks(base+".checks", p.Checks)
}

// checks checks each data check's severity and threshold.
func (v *validator) checks(base string, c Checks) {
	for _, ch := range []struct {
		name  string
		c     Check
		share bool // the threshold is a share in [0, 1]
	}{{"missing_rate", c.MissingRate, true}, {"levels", c.Levels, true}, {"psi", c.PSI, false}, {"class_balance", c.ClassBalance, true}, {"row_count", c.RowCount, false}} {
		p := base + "." + ch.name
		if s := ch.c.Severity; s != "" && !slices.Contains(Severities, s) {
			msg := fmt.Sprintf("checks.%s.severity %q is unknown; use one of %s", ch.name, s, strings.Join(Severities, ", "))
			if d := suggest(s, Severities); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			v.add(p+".severity", "%s", msg)
		}
		t := ch.c.Threshold
		switch {
		case t == nil:
		case ch.name == "row_count":
			v.add(p+".threshold", "checks.row_count has no threshold: it fails when a run reads fewer rows than the last one; set only severity")
		case *t < 0 || math.IsNaN(*t) || (ch.share && *t > 1):
			rng := "at least 0"
			if ch.share {
				rng = "a share from 0 to 1"
			}
			v.add(p+".threshold", "checks.%s.threshold %v is out of range; write %s", ch.name, *t, rng)
		}
	}
}

// schema checks the schema with schema.Compile and returns the task, and
// whether the schema is good enough to check the task against.
func (v *validator) schema(base string, s schema.Schema) (Task, bool) {
	sp := base + ".schema"
	for _, p := range []string{sp, sp + ".target", sp + ".columns"} {
		if slices.Contains(v.d.badPaths(), p) {
			return "", false
		}
	}
	if v.d != nil && !v.d.present(sp) && len(s.Columns) == 0 {
		v.addAt(v.d.valueLine(base), sp, "the pipeline has no schema; add schema: with target: and columns: (mlserve schema infer FILE.csv writes one)")
		return "", false
	}
	// Columns that failed to decode are reported already; check the others.
	var drop []int
	for i := range s.Columns {
		if v.d.isBad(fmt.Sprintf("%s.columns[%d]", sp, i)) {
			drop = append(drop, i)
		}
	}
	errs := compileAll(s, drop)
	t := s.TargetIndex()
	targetOK := t >= 0 && !slices.Contains(drop, t)
	for _, e := range errs {
		v.add(sp+e.path, "schema: %s", e.msg)
		col := fmt.Sprintf(".columns[%d]", t)
		if strings.HasPrefix(e.path, ".target") || e.path == col || strings.HasPrefix(e.path, col+".") {
			targetOK = false
		}
	}
	if !targetOK {
		return "", false
	}
	// Other columns may be bad: the task depends on the target alone.
	task := TaskOf(s)
	if task == "" {
		v.add(fmt.Sprintf("%s.columns[%d].values", sp, t), "schema: target %q has a single value, so there is nothing to predict; list at least two values", s.Target)
		return "", false
	}
	return task, true
}

type schemaError struct {
	path string // below the schema: ".target", ".columns[2].type"
	msg  string
}

var (
	colIndexRE = regexp.MustCompile(`^column (\d+): `)
	colNameRE  = regexp.MustCompile(`^column ("(?:[^"\\]|\\.)*")(: | is declared twice)`)
)

// compileAll runs schema.Compile until it passes, dropping each column it
// rejects, so that every bad column is reported rather than the first.
func compileAll(s schema.Schema, drop []int) []schemaError {
	var out []schemaError
	var cols []schema.Column
	var index []int // position in s.Columns of cols[i]
	var dropped []string
	for i, c := range s.Columns {
		if slices.Contains(drop, i) {
			dropped = append(dropped, c.Name)
			continue
		}
		cols = append(cols, c)
		index = append(index, i)
	}
	for range len(s.Columns) + 1 {
		_, err := schema.Compile(schema.Schema{Target: s.Target, Columns: cols})
		if err == nil {
			return out
		}
		msg := strings.TrimPrefix(err.Error(), schema.ErrInvalid.Error()+": ")
		j := -1 // index into cols of the rejected column
		if m := colIndexRE.FindStringSubmatch(msg); m != nil {
			j, _ = strconv.Atoi(m[1])
			j--
			out = append(out, schemaError{fmt.Sprintf(".columns[%d].name", index[j]), msg})
		} else if m := colNameRE.FindStringSubmatch(msg); m != nil {
			name, _ := strconv.Unquote(m[1])
			for k, c := range cols {
				if c.Name == name {
					j = k
					if m[2] == ": " {
						break // the first column of that name; for a duplicate, the last
					}
				}
			}
			field := ""
			if m[2] == ": " && j >= 0 {
				field = "." + columnField(cols[j], strings.TrimPrefix(msg, m[0]))
			} else {
				field = ".name"
			}
			if j < 0 {
				out = append(out, schemaError{".columns", msg})
				return out
			}
			out = append(out, schemaError{fmt.Sprintf(".columns[%d]%s", index[j], field), msg})
		} else {
			// A problem of the whole schema. Skip it when it may come from a
			// column dropped above: it shows once the columns are fixed.
			switch {
			case strings.HasPrefix(msg, "target is empty"):
				out = append(out, schemaError{".target", msg + " (the column a model predicts)"})
			case strings.HasPrefix(msg, "target"):
				if !slices.Contains(dropped, s.Target) {
					if s.Index(s.Target) < 0 {
						msg += fmt.Sprintf("; set target to one of %s", quoteList(columnNames(s.Columns)))
						if sug := suggest(s.Target, columnNames(s.Columns)); sug != "" {
							msg += fmt.Sprintf(" (did you mean %q?)", sug)
						}
					}
					out = append(out, schemaError{".target", msg})
				}
			case strings.HasPrefix(msg, "no columns"):
				if len(dropped) == 0 {
					out = append(out, schemaError{".columns", "no columns; list the columns of the data under columns:"})
				}
			default:
				if len(dropped) == 0 {
					out = append(out, schemaError{".columns", msg})
				}
			}
			return out
		}
		if j < 0 {
			return out
		}
		dropped = append(dropped, cols[j].Name)
		cols = slices.Delete(cols, j, j+1)
		index = slices.Delete(index, j, j+1)
	}
	return out
}

// columnField guesses which field of column c a schema message is about.
func columnField(c schema.Column, msg string) string {
	switch {
	case strings.HasPrefix(msg, "type"):
		return "type"
	case strings.HasPrefix(msg, "alias"):
		return "aliases"
	case strings.HasPrefix(msg, "unknown"):
		return "unknown"
	case strings.HasPrefix(msg, "value"):
		return "values"
	case strings.HasPrefix(msg, "values and aliases") && len(c.Values) > 0:
		return "values"
	case strings.HasPrefix(msg, "values and aliases"):
		return "aliases"
	case strings.HasPrefix(msg, "min"):
		if c.Min != nil {
			return "min"
		}
		return "max"
	}
	return "type"
}

func columnNames(cols []schema.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func (v *validator) algorithms() []string {
	if len(v.opts.Algorithms) > 0 {
		return v.opts.Algorithms
	}
	return DefaultAlgorithms
}

func (v *validator) model(base string, m Model, task Task, taskOK bool) {
	algs := v.algorithms()
	algOK := true
	if m.Algorithm != "" && !slices.Contains(algs, m.Algorithm) {
		algOK = false
		msg := fmt.Sprintf("model.algorithm %q is unknown; use one of %s", m.Algorithm, strings.Join(algs, ", "))
		if s := suggest(m.Algorithm, algs); s != "" {
			msg = fmt.Sprintf("model.algorithm %q is unknown; did you mean %q? (one of %s)", m.Algorithm, s, strings.Join(algs, ", "))
		}
		v.add(base+".algorithm", "%s", msg)
	}
	if algOK && taskOK {
		alg := m.Algorithm
		if alg == "" {
			alg = DefaultAlgorithm(task)
		}
		var err error
		if len(v.opts.Algorithms) == 0 {
			err = builtinCheck(alg, task)
		}
		if err == nil && v.opts.CheckModel != nil {
			err = v.opts.CheckModel(alg, task, m.Params)
		}
		if err != nil {
			path := base + ".params"
			if len(m.Params) == 0 {
				path = base + ".algorithm"
			}
			v.add(path, "model: %v", err)
		}
	}
	switch {
	case v.d.present(base+".holdout") && m.Holdout == 0, m.Holdout < 0, m.Holdout > 0.9:
		v.add(base+".holdout", "model.holdout %v is out of range; it is the fraction of rows kept for evaluation, more than 0 and at most 0.9 (e.g. 0.2)", m.Holdout)
	}
	if v.d.present(base+".seed") && m.Seed == 0 {
		v.add(base+".seed", "model.seed 0 would mean the default seed %d; write %d or another non-zero seed", DefaultSeed, DefaultSeed)
	}
	if m.MinCategoryRows != nil && *m.MinCategoryRows < 0 {
		v.add(base+".min_category_rows", "model.min_category_rows %d is negative; write the fewest training rows a category level needs for a weight of its own (default %d), or 0 to turn the rule off", *m.MinCategoryRows, DefaultMinCategoryRows)
	}
}

// builtinCheck is the task rule of the default algorithms.
func builtinCheck(alg string, task Task) error {
	switch {
	case alg == "logistic" && task == Regression:
		return errors.New("algorithm logistic is a classifier, but the target makes this regression; use linear or gbdt")
	case alg == "linear" && task != Regression:
		return fmt.Errorf("algorithm linear is for regression, but the target makes this %s; use logistic or gbdt", task.describe())
	}
	return nil
}

func (v *validator) train(base string, t Train) {
	if t.Schedule != "" {
		if err := checkCron(t.Schedule); err != nil {
			v.add(base+".schedule", "train.schedule %q is not a valid cron schedule: %v; write 5 fields, minute hour day-of-month month day-of-week, in UTC, e.g. \"0 3 * * *\" for every day at 03:00 or \"*/30 * * * *\" for every 30 minutes (or \"\" for no schedule)", t.Schedule, err)
		}
	}
	if t.OnNewRows != nil && *t.OnNewRows < 0 {
		v.add(base+".on_new_rows", "train.on_new_rows %d is negative; write the number of new rows that triggers training, or 0 to turn the trigger off", *t.OnNewRows)
	}
	switch {
	case t.Debounce < 0:
		v.add(base+".debounce", "train.debounce %s is negative; write how long to wait after a trigger, e.g. 30s", t.Debounce)
	case v.d.present(base+".debounce") && t.Debounce == 0:
		v.add(base+".debounce", "train.debounce 0 would mean the default %s; write %s, or a short wait such as 1s to start almost at once", Duration(DefaultDebounce), Duration(DefaultDebounce))
	}
	if t.MinRows < 0 || (v.d.present(base+".min_rows") && t.MinRows == 0) {
		v.add(base+".min_rows", "train.min_rows %d is too small; a training run needs at least 1 row (the default is %d)", t.MinRows, DefaultMinRows)
	}
}

func checkCron(spec string) error {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return errors.New("a time zone prefix is not allowed, schedules run in UTC")
	}
	_, err := cron.ParseStandard(spec)
	return err
}

func (v *validator) promote(base string, p Promote, task Task, s schema.Schema, taskOK bool) {
	if c := p.Confidence; c != nil && (*c < 0 || *c >= 1 || math.IsNaN(*c)) {
		v.add(base+".confidence", "promote.confidence %v is out of range; it is the share of bootstrap resamples a new version must win against production, at least 0 and below 1 (default %v; 0 compares the two scores plainly)", *c, DefaultConfidence)
	}
	metric := p.Metric
	if metric != "" && !slices.Contains(allMetrics, metric) {
		msg := fmt.Sprintf("promote.metric %q is unknown", metric)
		if sug := suggest(metric, allMetrics); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
		if taskOK {
			msg += fmt.Sprintf(" (for %s: %s)", task.describe(), strings.Join(Metrics(task), ", "))
		} else {
			msg += " (one of " + strings.Join(allMetrics, ", ") + ")"
		}
		v.add(base+".metric", "%s", msg)
		return
	}
	if !taskOK {
		return
	}
	if metric != "" && !slices.Contains(metrics[task], metric) {
		why := ""
		c := s.Columns[s.TargetIndex()]
		switch {
		case task == Regression:
			why = fmt.Sprintf("the target %q is a %s column, so the task is regression", s.Target, c.Type)
		case task == Classification && metric == "f1":
			v.add(base+".metric", "promote.metric f1 needs a binary target, but the target %q is a category without a values list, so its classes are known only from the data; use macro_f1, or list the two values to make it binary", s.Target)
			return
		case c.Type == schema.Boolean:
			why = fmt.Sprintf("the target %q is boolean, so the task is binary classification", s.Target)
		default:
			why = fmt.Sprintf("the target %q is a category with %d values, so the task is %s", s.Target, len(c.Values), task.describe())
		}
		v.add(base+".metric", "promote.metric %q does not fit the task: %s; use one of %s", metric, why, strings.Join(Metrics(task), ", "))
		return
	}
	if p.Min != nil {
		metric = cmp.Or(metric, DefaultMetric(task))
		lo, hi := metricRange(metric)
		if *p.Min < lo || *p.Min > hi {
			v.add(base+".min", "promote.min %v is outside the range of %s (%s); a version scoring below min is never promoted", *p.Min, metric, rangeText(lo, hi))
		}
	}
}

// metricRange is the range of values a metric takes.
func metricRange(metric string) (lo, hi float64) {
	switch metric {
	case "accuracy", "roc_auc", "f1", "macro_f1":
		return 0, 1
	case "r2":
		return negInf, 1
	}
	return 0, posInf // log_loss, rmse, mae
}

func rangeText(lo, hi float64) string {
	switch {
	case hi == posInf:
		return fmt.Sprintf("at least %v", lo)
	case lo == negInf:
		return fmt.Sprintf("at most %v", hi)
	}
	return fmt.Sprintf("%v to %v", lo, hi)
}
