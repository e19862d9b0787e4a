package artifact

import (
	"fmt"
	"sync"

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

// PredictRow writes the output for a typed row into out (len Outputs). The
// row's target value is ignored. It does not allocate.
func (m *Model) PredictRow(row schema.Row, out []float64) {
	b := m.bufs.Get().(*buffers)
	m.Artifact.Encoder.Encode(row, b.x)
	m.model.Predict(b.x, out)
	m.bufs.Put(b)
}

// PredictRows predicts every row, returning len(rows)*Outputs values.
func (m *Model) PredictRows(rows []schema.Row) []float64 {
	X := ml.NewMatrix(len(rows), m.Artifact.Encoder.Width())
	for i, r := range rows {
		m.Artifact.Encoder.Encode(r, X.Row(i))
	}
	return ml.PredictAll(m.model, X)
}

// Prediction is one answer in label/probabilities or value form.
type Prediction struct {
	Label         string             `json:"label,omitempty"`
	Probabilities map[string]float64 `json:"probabilities,omitempty"`
	Value         *float64           `json:"value,omitempty"`
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

// CoerceFeatures fills row (len Schema().Len()) from raw feature values.
// The target and ignored columns may be absent; any other column of the
// schema is coerced by its rules; names that are not feature columns are
// errors.
func (m *Model) CoerceFeatures(raw map[string]schema.Raw, row schema.Row) schema.FieldErrors {
	var fe schema.FieldErrors
	add := func(k, msg string) {
		if fe == nil {
			fe = schema.FieldErrors{}
		}
		fe[k] = msg
	}
	t := m.Artifact.Encoder.Target.Index
	for i := 0; i < m.schema.Len(); i++ {
		col := m.schema.Column(i)
		if i == t || col.Ignore {
			row[i] = schema.Value{Missing: true}
			continue
		}
		r, ok := raw[col.Name]
		v, msg := m.schema.Coerce(i, r.Text, !ok || r.Missing)
		if msg != "" {
			add(col.Name, msg)
			continue
		}
		row[i] = v
	}
	for k := range raw {
		i := m.schema.Index(k)
		switch {
		case i < 0:
			add(k, "is not a feature of this model")
		case i == t:
			add(k, "is the target; leave it out of a prediction request")
		}
	}
	return fe
}

// Format turns a raw output vector into a Prediction.
func (m *Model) Format(out []float64) Prediction {
	if m.Task() == ml.Regression {
		v := out[0]
		return Prediction{Value: &v}
	}
	classes := m.Classes()
	probs := make(map[string]float64, len(classes))
	best := 0
	for j, c := range classes {
		probs[c] = out[j]
		if out[j] > out[best] {
			best = j
		}
	}
	return Prediction{Label: classes[best], Probabilities: probs}
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
	best := 0
	for j := range out {
		if out[j] > out[best] {
			best = j
		}
	}
	return out[best]
}
