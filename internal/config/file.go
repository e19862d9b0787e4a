package config

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mlserve/mlserve/internal/schema"
)

// DefaultFile is the pipeline file read when --config is not given.
const DefaultFile = "mlserve.yaml"

// Defaults filled in by Pipeline.WithDefaults.
const (
	DefaultHoldout   = 0.2
	DefaultSeed      = 42
	DefaultDebounce  = 30 * time.Second
	DefaultMinRows   = 50
	DefaultOnNewRows = 100
	// DefaultConfidence is promote.confidence when absent.
	DefaultConfidence = 0.9
	// DefaultMinCategoryRows is model.min_category_rows when absent.
	DefaultMinCategoryRows = 20
)

// DefaultAlgorithms are the algorithm names a pipeline may use when
// ParseOptions.Algorithms is empty.
var DefaultAlgorithms = []string{"logistic", "linear", "gbdt"}

// File is a pipeline file: one or more pipelines.
type File struct {
	Pipelines []Pipeline `yaml:"pipelines" json:"pipelines"`
}

// Pipeline is one pipeline: the data it accepts, the model it trains, when
// it trains and when a new model replaces the production one.
type Pipeline struct {
	// Name matches [a-z][a-z0-9_]{0,62}; it names the dataset table and the
	// model, so it is the only identifier that reaches SQL.
	Name    string        `yaml:"name" json:"name"`
	Schema  schema.Schema `yaml:"schema" json:"schema"`
	Model   Model         `yaml:"model" json:"model"`
	Train   Train         `yaml:"train" json:"train"`
	Promote Promote       `yaml:"promote" json:"promote"`
	// Checks are the data checks each run makes before training.
	Checks Checks `yaml:"checks" json:"checks,omitzero"`
}

// Checks set the data checks a training run makes on its snapshot against
// the production version's training statistics (internal/datacheck). Each
// is on with its default threshold and severity block unless set.
type Checks struct {
	// MissingRate: a column's missing rate up by more than Threshold
	// (absolute; default 0.2).
	MissingRate Check `yaml:"missing_rate" json:"missing_rate,omitzero"`
	// Levels: a category level that held more than Threshold of the values
	// gone, or a new level above it (default 0.05).
	Levels Check `yaml:"levels" json:"levels,omitzero"`
	// PSI: a number's population stability index on the production
	// version's quantile bins above Threshold (default 0.25).
	PSI Check `yaml:"psi" json:"psi,omitzero"`
	// ClassBalance: a class's share of the target moved by more than
	// Threshold (absolute; default 0.2).
	ClassBalance Check `yaml:"class_balance" json:"class_balance,omitzero"`
	// RowCount: fewer rows than the last run read (no threshold).
	RowCount Check `yaml:"row_count" json:"row_count,omitzero"`
}

// Check is one data check's threshold and severity.
type Check struct {
	// Threshold; nil means the check's default.
	Threshold *float64 `yaml:"threshold" json:"threshold,omitempty"`
	// Severity is block (the default: a failing check fails the run and
	// makes no version), warn (recorded, training goes on) or off.
	Severity string `yaml:"severity" json:"severity,omitempty"`
}

// Check severities.
const (
	SeverityBlock = "block"
	SeverityWarn  = "warn"
	SeverityOff   = "off"
)

// Severities are the valid values of a check's severity.
var Severities = []string{SeverityBlock, SeverityWarn, SeverityOff}

// ThresholdOr returns the check's threshold, or def when unset.
func (c Check) ThresholdOr(def float64) float64 {
	if c.Threshold == nil {
		return def
	}
	return *c.Threshold
}

// SeverityOr returns the check's severity, block when unset.
func (c Check) SeverityOr() string { return cmp.Or(c.Severity, SeverityBlock) }

// Model says which algorithm to train and how.
type Model struct {
	// Algorithm is logistic, linear, gbdt or another registered name. Empty
	// means logistic for classification and linear for regression.
	Algorithm string `yaml:"algorithm" json:"algorithm"`
	// Params are algorithm-specific settings, checked by the algorithm.
	Params map[string]any `yaml:"params" json:"params"`
	// Holdout is the fraction of rows kept for evaluation, in (0, 0.9].
	// Zero means DefaultHoldout.
	Holdout float64 `yaml:"holdout" json:"holdout"`
	// Seed drives the holdout split and the algorithm. Zero means
	// DefaultSeed.
	Seed int64 `yaml:"seed" json:"seed"`
	// MinCategoryRows: a category level, or a column's missing value, seen
	// in fewer training rows than this gets no weight of its own (it is
	// encoded as the column's most frequent level). Nil (absent) means
	// DefaultMinCategoryRows; 0 turns the rule off.
	MinCategoryRows *int `yaml:"min_category_rows" json:"min_category_rows,omitempty"`
}

// MinCategory returns model.min_category_rows with its default.
func (m Model) MinCategory() int {
	if m.MinCategoryRows == nil {
		return DefaultMinCategoryRows
	}
	return *m.MinCategoryRows
}

// Train says when a pipeline retrains.
type Train struct {
	// Schedule is a standard 5-field cron expression in UTC ("0 3 * * *"),
	// or a descriptor such as @daily. Empty means no schedule.
	Schedule string `yaml:"schedule" json:"schedule"`
	// OnNewRows retrains once this many rows arrived since the last
	// training; 0 turns the trigger off. Nil (absent) means
	// DefaultOnNewRows: a continuously retrained pipeline is what mlserve
	// is for, so the trigger is on unless turned off.
	OnNewRows *int `yaml:"on_new_rows" json:"on_new_rows"`
	// Debounce is how long to wait after a trigger to gather more rows
	// before training starts. Zero means DefaultDebounce.
	Debounce Duration `yaml:"debounce" json:"debounce"`
	// MinRows is the fewest rows a training run needs. Zero means
	// DefaultMinRows.
	MinRows int `yaml:"min_rows" json:"min_rows"`
}

// NewRows returns the new-rows trigger threshold, 0 when the trigger is off.
func (t Train) NewRows() int {
	if t.OnNewRows == nil {
		return DefaultOnNewRows
	}
	return *t.OnNewRows
}

// Promote says when a newly trained version becomes the production one.
type Promote struct {
	// Metric is the holdout metric that decides (see Metrics). Empty means
	// DefaultMetric of the pipeline's task.
	Metric string `yaml:"metric" json:"metric"`
	// Min is the floor on Metric below which a version is never promoted;
	// nil means no floor. Parse checks it lies in the metric's range; how
	// the gate applies it to metrics where lower is better (log_loss, rmse,
	// mae) is the registry's rule.
	Min *float64 `yaml:"min" json:"min,omitempty"`
	// MustBeatProduction requires a new version to beat the production
	// version on the same holdout. Nil (absent) means true.
	MustBeatProduction *bool `yaml:"must_beat_production" json:"must_beat_production"`
	// Confidence: a new version must beat production in at least this
	// share of the resamples of a paired bootstrap over the shared holdout
	// rows, in [0, 1). Nil (absent) means DefaultConfidence; 0 is the plain
	// comparison of the two scores.
	Confidence *float64 `yaml:"confidence" json:"confidence,omitempty"`
}

// ConfidenceOr returns promote.confidence with its default.
func (p Promote) ConfidenceOr() float64 {
	if p.Confidence == nil {
		return DefaultConfidence
	}
	return *p.Confidence
}

// MustBeat reports whether a new version must beat production (true unless
// MustBeatProduction is set to false).
func (p Promote) MustBeat() bool { return p.MustBeatProduction == nil || *p.MustBeatProduction }

// Ptr returns a pointer to v, for the optional fields (Train.OnNewRows,
// Promote.Min, Promote.MustBeatProduction).
func Ptr[T any](v T) *T { return &v }

// Duration is a time.Duration written as a Go duration string ("30s", "5m")
// in YAML and JSON.
type Duration time.Duration

// String formats d like time.Duration without zero trailing units ("5m", not
// "5m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a duration must be a string such as 30s")
	}
	return d.UnmarshalText([]byte(n.Value))
}

func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write a number with a unit (ms, s, m, h) such as 30s or 5m", s)
	}
	return Duration(v), nil
}

// Task is the kind of problem a pipeline's model solves, inferred from the
// target column. The names match ml.Task.
type Task string

// Tasks. Classification is a category target without a values list: binary
// or multiclass, decided by the classes in the data.
const (
	Binary         Task = "binary"
	Multiclass     Task = "multiclass"
	Classification Task = "classification"
	Regression     Task = "regression"
)

// describe names the task in words for messages.
func (t Task) describe() string {
	switch t {
	case Binary:
		return "binary classification"
	case Multiclass:
		return "multiclass classification"
	case Classification:
		return "classification"
	}
	return string(t)
}

// TaskOf infers the task from the schema's target column: category and
// boolean targets are classification (binary with two values, multiclass
// with more, Classification without a values list), number and integer
// targets regression. It returns "" when the target is missing or cannot be
// predicted (a category with a single value).
func TaskOf(s schema.Schema) Task {
	i := s.TargetIndex()
	if i < 0 {
		return ""
	}
	c := s.Columns[i]
	switch c.Type {
	case schema.Boolean:
		return Binary
	case schema.Number, schema.Integer:
		return Regression
	case schema.Category:
		switch n := len(c.Values); {
		case n == 0:
			return Classification
		case n == 2:
			return Binary
		case n > 2:
			return Multiclass
		}
	}
	return ""
}

// Task returns the pipeline's task (see TaskOf).
func (p Pipeline) Task() Task { return TaskOf(p.Schema) }

var metrics = map[Task][]string{
	Binary:         {"roc_auc", "accuracy", "log_loss", "f1", "macro_f1"},
	Multiclass:     {"accuracy", "roc_auc", "log_loss", "macro_f1"},
	Classification: {"accuracy", "roc_auc", "log_loss", "macro_f1"},
	Regression:     {"rmse", "mae", "r2"},
}

// allMetrics is every metric name, for "did you mean".
var allMetrics = []string{"accuracy", "roc_auc", "log_loss", "f1", "macro_f1", "rmse", "mae", "r2"}

// Metrics returns the metric names valid for task, the default first.
func Metrics(task Task) []string { return slices.Clone(metrics[task]) }

// DefaultMetric is the promotion metric of a task when the file names none:
// roc_auc for binary, accuracy for multiclass (and for a category target
// without values), rmse for regression.
func DefaultMetric(task Task) string {
	if m := metrics[task]; len(m) > 0 {
		return m[0]
	}
	return ""
}

// DefaultAlgorithm is the algorithm of a task when the file names none:
// linear for regression, logistic otherwise.
func DefaultAlgorithm(task Task) string {
	if task == Regression {
		return "linear"
	}
	return "logistic"
}

// WithDefaults returns p with every unset field set to its default. It is
// idempotent; Parse applies it to every pipeline.
func (p Pipeline) WithDefaults() Pipeline {
	task := p.Task()
	p.Model.Algorithm = cmp.Or(p.Model.Algorithm, DefaultAlgorithm(task))
	p.Model.Holdout = cmp.Or(p.Model.Holdout, DefaultHoldout)
	p.Model.Seed = cmp.Or(p.Model.Seed, DefaultSeed)
	p.Train.Debounce = cmp.Or(p.Train.Debounce, Duration(DefaultDebounce))
	p.Train.MinRows = cmp.Or(p.Train.MinRows, DefaultMinRows)
	if p.Train.OnNewRows == nil {
		p.Train.OnNewRows = Ptr(DefaultOnNewRows)
	}
	p.Promote.Metric = cmp.Or(p.Promote.Metric, DefaultMetric(task))
	if p.Promote.MustBeatProduction == nil {
		p.Promote.MustBeatProduction = Ptr(true)
	}
	return p
}

// WithDefaults returns a copy of f whose pipelines have their defaults
// filled in.
func (f *File) WithDefaults() *File {
	out := &File{Pipelines: make([]Pipeline, len(f.Pipelines))}
	for i, p := range f.Pipelines {
		out.Pipelines[i] = p.WithDefaults()
	}
	return out
}

// Pipeline returns the named pipeline, or false.
func (f *File) Pipeline(name string) (Pipeline, bool) {
	for _, p := range f.Pipelines {
		if p.Name == name {
			return p, true
		}
	}
	return Pipeline{}, false
}

// Names returns the pipeline names in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.Pipelines))
	for i, p := range f.Pipelines {
		out[i] = p.Name
	}
	return out
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidName reports whether name is a valid pipeline name:
// [a-z][a-z0-9_]{0,62}.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// FixName turns s into a valid pipeline name: lowercase, every run of other
// characters as one _, a leading p_ when it would not start with a letter,
// at most 63 characters. It returns "" when s has no letter or digit.
func FixName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	out := b.String()
	if out == "" {
		return ""
	}
	if out[0] < 'a' || out[0] > 'z' {
		out = "p_" + out
	}
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "_")
	}
	return out
}

var (
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)
