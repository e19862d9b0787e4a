package linear

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/mlserve/mlserve/internal/ml"
)

// formatVersion is the version of the JSON encoding of a Model. Decoding
// rejects other versions.
const formatVersion = 1

// Model is a fitted linear model: a logistic regression (binary or
// multinomial) or a ridge regression. It is immutable and safe for
// concurrent use.
type Model struct {
	algorithm string
	task      ml.Task
	classes   int
	features  []string
	p         int
	// weights holds one row of p weights per block: 1 block for binary
	// (class 1 against class 0) and regression, K for multinomial.
	weights    []float64
	intercepts []float64
	c          float64 // logistic: the C of the final fit
	alpha      float64 // linear: the ridge penalty
	cv         *cvResult
}

var (
	_ ml.Model          = (*Model)(nil)
	_ ml.BatchPredictor = (*Model)(nil)
)

// Outputs is the length of Predict's out: the number of classes, or 1.
func (m *Model) Outputs() int { return ml.Outputs(m.task, m.classes) }

// Task is the task the model solves.
func (m *Model) Task() ml.Task { return m.task }

// C is the inverse regularisation strength of a logistic model's final fit:
// the C param, or the one cross-validation chose. It is 0 for a linear
// model.
func (m *Model) C() float64 { return m.c }

// Predict writes the class probabilities ([P0, P1] for binary) or the
// regression value for the feature row x into out. x must have the
// model's feature count and out Outputs() values. It does not allocate.
func (m *Model) Predict(x []float64, out []float64) {
	p := m.p
	x = x[:p]
	switch {
	case m.task == ml.Regression:
		out[0] = m.intercepts[0] + dot(m.weights[:p], x)
	case len(m.intercepts) == 1:
		z := m.intercepts[0] + dot(m.weights[:p], x)
		p1 := sigmoid(z)
		out[0], out[1] = 1-p1, p1
	default:
		out = out[:len(m.intercepts)]
		for k, b := range m.intercepts {
			out[k] = b + dot(m.weights[k*p:(k+1)*p], x)
		}
		zmax := slices.Max(out)
		var sum float64
		for k, z := range out {
			e := math.Exp(z - zmax)
			out[k] = e
			sum += e
		}
		for k := range out {
			out[k] /= sum
		}
	}
}

// batchChunk is the number of rows one goroutine of PredictBatch predicts.
const batchChunk = 4096

// PredictBatch predicts every row of X into out (X.Rows*Outputs() values),
// spreading batches over batchChunk rows over up to threads goroutines
// (0: every core).
func (m *Model) PredictBatch(X ml.Matrix, out []float64, threads int) {
	chunks := (X.Rows + batchChunk - 1) / batchChunk
	workers := batchWorkers(threads, chunks)
	if workers <= 1 {
		m.predictRows(X, out, 0, X.Rows)
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for c := range next {
				m.predictRows(X, out, c*batchChunk, min((c+1)*batchChunk, X.Rows))
			}
		})
	}
	wg.Wait()
}

// batchWorkers is how many goroutines PredictBatch runs for chunks chunks.
func batchWorkers(threads, chunks int) int {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return min(threads, chunks)
}

func (m *Model) predictRows(X ml.Matrix, out []float64, from, to int) {
	k := m.Outputs()
	for i := from; i < to; i++ {
		m.Predict(X.Row(i), out[i*k:(i+1)*k])
	}
}

// modelJSON is the encoding of a Model. Field order is fixed, and float64
// values encode in their shortest exact form, so equal models give equal
// bytes and decoding restores the model exactly.
type modelJSON struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Algorithm  string      `json:"algorithm"`
	Task       ml.Task     `json:"task"`
	Classes    int         `json:"classes"`
	Features   []string    `json:"features"`
	Weights    [][]float64 `json:"weights"`
	Intercepts []float64   `json:"intercepts"`
	C          float64     `json:"C,omitempty"`
	Alpha      *float64    `json:"alpha,omitempty"`
	CV         *cvResult   `json:"cv,omitempty"`
}

const formatName = "mlserve.linear"

// MarshalJSON encodes the model as versioned JSON: algorithm, task,
// classes, feature names, one weight row per block, intercepts, and C (with
// the cross-validation scores when C was chosen by CV) or alpha.
func (m *Model) MarshalJSON() ([]byte, error) {
	j := modelJSON{
		Format:     formatName,
		Version:    formatVersion,
		Algorithm:  m.algorithm,
		Task:       m.task,
		Classes:    m.classes,
		Features:   m.features,
		Intercepts: m.intercepts,
		C:          m.c,
		CV:         m.cv,
	}
	if m.algorithm == linearName {
		j.Alpha = &m.alpha
	}
	for k := range m.intercepts {
		j.Weights = append(j.Weights, m.weights[k*m.p:(k+1)*m.p])
	}
	return json.Marshal(j)
}

// decodeModel decodes what MarshalJSON wrote for algorithm.
func decodeModel(algorithm string, data []byte) (*Model, error) {
	var j modelJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("decode %s model: %w", algorithm, err)
	}
	if err := j.validate(algorithm); err != nil {
		return nil, fmt.Errorf("decode %s model: %w", algorithm, err)
	}
	m := &Model{
		algorithm:  j.Algorithm,
		task:       j.Task,
		classes:    j.Classes,
		features:   j.Features,
		p:          len(j.Features),
		intercepts: j.Intercepts,
		c:          j.C,
		cv:         j.CV,
	}
	if j.Alpha != nil {
		m.alpha = *j.Alpha
	}
	for _, w := range j.Weights {
		m.weights = append(m.weights, w...)
	}
	return m, nil
}

func (j *modelJSON) validate(algorithm string) error {
	switch {
	case j.Format != formatName:
		return fmt.Errorf("format is %q, want %q", j.Format, formatName)
	case j.Version != formatVersion:
		return fmt.Errorf("format version %d, this build reads %d", j.Version, formatVersion)
	case j.Algorithm != algorithm:
		return fmt.Errorf("algorithm is %q", j.Algorithm)
	}
	blocks := 1
	switch {
	case algorithm == linearName && j.Task == ml.Regression && j.Classes == 1:
	case algorithm == logisticName && j.Task == ml.Binary && j.Classes == 2:
	case algorithm == logisticName && j.Task == ml.Multiclass && j.Classes >= 3:
		blocks = j.Classes
	default:
		return fmt.Errorf("task %q with %d classes", j.Task, j.Classes)
	}
	if len(j.Weights) != blocks || len(j.Intercepts) != blocks {
		return fmt.Errorf("have %d weight rows and %d intercepts, want %d", len(j.Weights), len(j.Intercepts), blocks)
	}
	for k, w := range j.Weights {
		if len(w) != len(j.Features) {
			return fmt.Errorf("weight row %d has %d values for %d features", k, len(w), len(j.Features))
		}
	}
	return nil
}
