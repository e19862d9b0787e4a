package artifact

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/algorithms"
	"github.com/mlserve/mlserve/internal/schema"
)

// Model is a decoded artifact ready to predict. It is immutable and safe for
// concurrent use.
type Model struct {
	Artifact *Artifact
	SHA256   string

	schema  *schema.Compiled
	model   ml.Model
	outputs int
	bufs    sync.Pool // *buffers
	// inputs are the columns a request gives (neither the target nor
	// ignored); names are all columns' names; inputNames the inputs'.
	inputs     []int
	names      []string
	inputNames []string
	// byName lists class indexes in the order of their names, the order
	// encoding/json writes the keys of Prediction.Probabilities.
	byName []int
}

type buffers struct {
	row schema.Row
	x   []float64
	out []float64
}

// Load verifies and decodes an artifact and builds its predictor.
func Load(data []byte, wantSHA string) (*Model, error) {
	a, err := Decode(data, wantSHA)
	if err != nil {
		return nil, err
	}
	return FromArtifact(a, Hash(data))
}

// FromArtifact builds the predictor of a decoded artifact.
func FromArtifact(a *Artifact, sha string) (*Model, error) {
	c, err := schema.Compile(a.Schema)
	if err != nil {
		return nil, fmt.Errorf("load artifact: %w", err)
	}
	if err := a.Encoder.Validate(a.Schema); err != nil {
		return nil, fmt.Errorf("load artifact: %w", err)
	}
	alg, err := algorithms.Lookup(a.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("load artifact: %w", err)
	}
	mdl, err := alg.DecodeModel(a.Model)
	if err != nil {
		return nil, fmt.Errorf("load artifact: decode %s model: %w", a.Algorithm, err)
	}
	want := ml.Outputs(a.Encoder.Task(), a.Encoder.Classes())
	if mdl.Outputs() != want {
		return nil, fmt.Errorf("load artifact: model has %d outputs, encoder expects %d", mdl.Outputs(), want)
	}
	m := &Model{Artifact: a, SHA256: sha, schema: c, model: mdl, outputs: want}
	for i := range c.Len() {
		col := c.Column(i)
		m.names = append(m.names, col.Name)
		if i != a.Encoder.Target.Index && !col.Ignore {
			m.inputs = append(m.inputs, i)
			m.inputNames = append(m.inputNames, col.Name)
		}
	}
	if a.Encoder.Task() != ml.Regression {
		classes := a.Encoder.Target.Classes
		m.byName = make([]int, len(classes))
		for i := range m.byName {
			m.byName[i] = i
		}
		slices.SortStableFunc(m.byName, func(i, j int) int { return strings.Compare(classes[i], classes[j]) })
	}
	w := a.Encoder.Width()
	n := c.Len()
	m.bufs.New = func() any {
		return &buffers{row: make(schema.Row, n), x: make([]float64, w), out: make([]float64, want)}
	}
	return m, nil
}

// Schema is the compiled schema the model was trained with.
func (m *Model) Schema() *schema.Compiled { return m.schema }

// Task is the model's task.
func (m *Model) Task() ml.Task { return m.Artifact.Encoder.Task() }

// Classes are the class labels (classification), in output order.
func (m *Model) Classes() []string { return m.Artifact.Encoder.Target.Classes }

// Outputs is the length of a prediction's output.
func (m *Model) Outputs() int { return m.outputs }

// ML returns the underlying algorithm model.
func (m *Model) ML() ml.Model { return m.model }

// Width is the length of an encoded feature vector.
func (m *Model) Width() int { return m.Artifact.Encoder.Width() }

// PredictRow writes the output for a typed row into out (len Outputs). The
// row's target value is ignored. It does not allocate.
func (m *Model) PredictRow(row schema.Row, out []float64) {
	b := m.bufs.Get().(*buffers)
	m.Artifact.Encoder.Encode(row, b.x)
	m.model.Predict(b.x, out)
	m.bufs.Put(b)
}

// PredictRows predicts rows into out (len(rows)*Outputs() values), using
// x (len(rows)*Width() values) for the encoded features, on the calling
// goroutine: callers split batches over cores with Chunks, so that under
// load a batch takes no more cores than its share. Each row's answer is
// the same as PredictRow's. It does not allocate.
func (m *Model) PredictRows(rows []schema.Row, x, out []float64) {
	w := m.Width()
	X := ml.Matrix{Rows: len(rows), Cols: w, Data: x[:len(rows)*w]}
	for i, r := range rows {
		m.Artifact.Encoder.Encode(r, X.Row(i))
	}
	if bp, ok := m.model.(ml.BatchPredictor); ok {
		bp.PredictBatch(X, out, 1)
		return
	}
	k := m.outputs
	for i := range rows {
		m.model.Predict(X.Row(i), out[i*k:(i+1)*k])
	}
}

// ChunkRows is the fewest rows per goroutine worth splitting a batch
// prediction into (see Chunks).
const ChunkRows = 256

// batches counts the batch predictions running in this process (see
// ShareCores).
var batches atomic.Int32

// ShareCores says into how many parts, each at least minChunk rows, a batch
// of n rows should split now: the cores (GOMAXPROCS) divided by the batches
// in flight, this one included. Alone, a batch uses every core; under load
// each batch runs on its own goroutine, so that none waits for helpers
// queued behind other requests (which made the slowest answers ten times
// slower than the median). A batch too small to split is one part and is
// not counted (no shared state on the single-row path). Call done when the
// batch is finished.
func ShareCores(n, minChunk int) (parts int, done func()) {
	minChunk = max(minChunk, 1)
	if n < 2*minChunk {
		return 1, func() {}
	}
	inFlight := int(batches.Add(1))
	return max(1, min(runtime.GOMAXPROCS(0)/inFlight, n/minChunk)), releaseCores
}

func releaseCores() { batches.Add(-1) }

// Split says how to split a batch of n rows now: into parts consecutive
// ranges of size rows (the last one shorter), as ShareCores shares the
// cores. Call done when the batch is finished.
func Split(n, minChunk int) (parts, size int, done func()) {
	parts, done = ShareCores(n, minChunk)
	return parts, (n + parts - 1) / max(parts, 1), done
}

// Chunks calls fn on consecutive [lo, hi) ranges covering [0, n): one range
// when n is small, else those Split gives, each at least minChunk long, run
// in parallel. It returns when every call has.
func Chunks(n, minChunk int, fn func(lo, hi int)) {
	workers, size, done := Split(n, minChunk)
	defer done()
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		if hi == n {
			fn(lo, hi) // the last chunk runs here
			break
		}
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// Prediction is one answer in label/probabilities or value form.
type Prediction struct {
	Label         string             `json:"label,omitempty"`
	Probabilities map[string]float64 `json:"probabilities,omitempty"`
	Value         *float64           `json:"value,omitempty"`
	// Explanation is set when the prediction was asked with one.
	Explanation *Explanation `json:"explanation,omitempty"`
}

// Predict coerces raw feature values (the target may be absent) and
// predicts. Bad or unknown fields come back as FieldErrors naming each.
func (m *Model) Predict(raw map[string]schema.Raw) (Prediction, schema.FieldErrors) {
	b := m.bufs.Get().(*buffers)
	defer m.bufs.Put(b)
	if fe := m.CoerceFeatures(raw, b.row); fe != nil {
		return Prediction{}, fe
	}
	m.Artifact.Encoder.Encode(b.row, b.x)
	m.model.Predict(b.x, b.out)
	return m.Format(b.out), nil
}

// CoerceFeatures fills row (len Schema().Len()) from raw feature values,
// by the rules of CoerceFields.
func (m *Model) CoerceFeatures(raw map[string]schema.Raw, row schema.Row) schema.FieldErrors {
	f := NewFields(m.schema)
	for k, r := range raw {
		f.Set(k, r)
	}
	return m.CoerceFields(f, row)
}

// Format turns a raw output vector into a Prediction.
func (m *Model) Format(out []float64) Prediction {
	if m.Task() == ml.Regression {
		v := out[0]
		return Prediction{Value: &v}
	}
	classes := m.Classes()
	probs := make(map[string]float64, len(classes))
	for j, c := range classes {
		probs[c] = out[j]
	}
	return Prediction{Label: classes[Best(out[:len(classes)])], Probabilities: probs}
}

// Best is the index of the largest of a classifier's outputs (its
// predicted class), the first of equals.
func Best(out []float64) int {
	best := 0
	for j := range out {
		if out[j] > out[best] {
			best = j
		}
	}
	return best
}

// PositiveProbability returns the probability of the positive class (class
// index 1) of a binary model, or the predicted value of a regression; for
// multiclass models, the probability of the predicted class.
func (m *Model) PositiveProbability(out []float64) float64 {
	switch m.Task() {
	case ml.Binary:
		return out[1]
	case ml.Regression:
		return out[0]
	}
	return out[Best(out)]
}
