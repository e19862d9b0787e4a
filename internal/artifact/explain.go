package artifact

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
)

// Links: how an explanation's raw scores become the prediction.
const (
	// LinkLogit: binary classification; the raw score is the log-odds of
	// the second class (Classes()[1]).
	LinkLogit = "logit"
	// LinkSoftmax: multiclass; one raw score per class, the probabilities
	// are their softmax.
	LinkSoftmax = "softmax"
	// LinkIdentity: regression; the raw score is the predicted value.
	LinkIdentity = "identity"
)

// Explanation splits a prediction's raw scores into a base value and one
// contribution per input column: Base[s] + Σ_c Contributions[s][c] is raw
// score s. An input column's contribution is the sum of those of its
// encoded features (one-hot levels, missing indicator, timestamp parts).
type Explanation struct {
	// Link is LinkLogit, LinkSoftmax or LinkIdentity.
	Link string
	// Columns are the input columns, in schema order.
	Columns []string
	// Classes name the scores of a multiclass model; nil otherwise (one
	// score).
	Classes []string
	// Base holds one value per score.
	Base []float64
	// Contributions holds one row per score of one value per column.
	Contributions [][]float64
	// Raw holds the raw scores as the model's Predict sums them (not
	// encoded: base plus contributions give them).
	Raw []float64
}

// Explain predicts a typed row into out (len Outputs) and explains its raw
// scores. It fails when the model cannot explain (an algorithm without
// explanations, a tree model stored before node covers were kept).
func (m *Model) Explain(row schema.Row, out []float64) (*Explanation, error) {
	ex, ok := m.model.(ml.Explainer)
	if !ok {
		return nil, fmt.Errorf("explain: algorithm %s gives no explanations", m.Artifact.Algorithm)
	}
	enc := m.Artifact.Encoder
	w, k := enc.Width(), ex.Scores()
	x := make([]float64, w)
	enc.Encode(row, x)
	m.model.Predict(x, out)
	base, contrib := make([]float64, k), make([]float64, k*w)
	if err := ex.Explain(x, base, contrib); err != nil {
		return nil, err
	}
	e := &Explanation{Link: LinkIdentity, Base: base, Contributions: make([][]float64, k), Raw: make([]float64, k)}
	ex.RawScores(x, e.Raw)
	switch m.Task() {
	case ml.Binary:
		e.Link = LinkLogit
	case ml.Multiclass:
		e.Link, e.Classes = LinkSoftmax, m.Classes()
	}
	for _, ce := range enc.Columns {
		e.Columns = append(e.Columns, ce.Name)
	}
	for s := range k {
		row := make([]float64, len(enc.Columns))
		for i, ce := range enc.Columns {
			end := w
			if i+1 < len(enc.Columns) {
				end = enc.Columns[i+1].Offset
			}
			for _, c := range contrib[s*w+ce.Offset : s*w+end] {
				row[i] += c
			}
		}
		e.Contributions[s] = row
	}
	return e, nil
}

// ImportanceRows is the most holdout rows ExplanationImportance is measured on:
// TreeSHAP costs about half a millisecond a row at 100 trees of depth 6.
const ImportanceRows = 2000

// ExplanationImportance returns each input column's mean |contribution| over rows
// (summed over classes for multiclass), or the error of Explain.
func (m *Model) ExplanationImportance(rows []schema.Row) (map[string]float64, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	var sum []float64
	var cols []string
	out := make([]float64, m.outputs)
	for _, row := range rows {
		e, err := m.Explain(row, out)
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum, cols = make([]float64, len(e.Columns)), e.Columns
		}
		for _, cs := range e.Contributions {
			for j, c := range cs {
				sum[j] += math.Abs(c)
			}
		}
	}
	imp := make(map[string]float64, len(cols))
	for j, c := range cols {
		imp[c] = sum[j] / float64(len(rows))
	}
	return imp, nil
}

// PredictExplained is Predict with the prediction's explanation. It fails
// when the model cannot explain.
func (m *Model) PredictExplained(raw map[string]schema.Raw) (Prediction, schema.FieldErrors, error) {
	row := make(schema.Row, m.schema.Len())
	if fe := m.CoerceFeatures(raw, row); fe != nil {
		return Prediction{}, fe, nil
	}
	out := make([]float64, m.outputs)
	e, err := m.Explain(row, out)
	if err != nil {
		return Prediction{}, nil, err
	}
	p := m.Format(out)
	p.Explanation = e
	return p, nil, nil
}

// MarshalJSON encodes the explanation as the API answers it:
// {"base":b,"contributions":{column:c,...},"link":l} for one score, and
// for multiclass {"base":{class:b,...},"contributions":{class:{column:c,
// ...},...},"link":"softmax"}. Keys are sorted, as encoding/json sorts a
// map's.
func (e *Explanation) MarshalJSON() ([]byte, error) {
	b, ok := e.AppendJSON(nil)
	if !ok {
		return nil, fmt.Errorf("encode explanation: a value is not a finite number")
	}
	return b, nil
}

// AppendJSON appends MarshalJSON's bytes to dst. ok is false when a value
// is NaN or infinite; dst is then returned unchanged.
func (e *Explanation) AppendJSON(dst []byte) (_ []byte, ok bool) {
	start := len(dst)
	cols := sortedIndex(e.Columns)
	scoreObject := func(b []byte, s int) ([]byte, bool) {
		b = append(b, '{')
		for n, i := range cols {
			if n > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, e.Columns[i])
			b = append(b, ':')
			if b, ok = jsonw.Float(b, e.Contributions[s][i]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	dst = append(dst, `{"base":`...)
	if e.Classes == nil {
		if dst, ok = jsonw.Float(dst, e.Base[0]); !ok {
			return dst[:start], false
		}
		dst = append(dst, `,"contributions":`...)
		if dst, ok = scoreObject(dst, 0); !ok {
			return dst[:start], false
		}
	} else {
		classes := sortedIndex(e.Classes)
		dst = append(dst, '{')
		for n, c := range classes {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.String(dst, e.Classes[c])
			dst = append(dst, ':')
			if dst, ok = jsonw.Float(dst, e.Base[c]); !ok {
				return dst[:start], false
			}
		}
		dst = append(dst, `},"contributions":{`...)
		for n, c := range classes {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = jsonw.String(dst, e.Classes[c])
			dst = append(dst, ':')
			if dst, ok = scoreObject(dst, c); !ok {
				return dst[:start], false
			}
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"link":`...)
	dst = jsonw.String(dst, e.Link)
	return append(dst, '}'), true
}

// sortedIndex returns the indexes of names in the order of the names.
func sortedIndex(names []string) []int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return strings.Compare(names[i], names[j]) })
	return idx
}
