package gbdt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mlserve/mlserve/internal/ml"
)

// Model encoding identifiers.
const (
	modelFormat  = "mlserve-gbdt"
	modelVersion = 1
)

// predictChunk is the row chunk of PredictBatch.
const predictChunk = 1024

// Model is a fitted ensemble. It is immutable and safe for concurrent use.
type Model struct {
	task    ml.Task
	classes int
	loss    string
	k       int       // raw scores per row; tree i adds to score i%k
	levels  []float64 // per feature: category count, 0 if numeric
	base    []float64 // k baseline raw scores
	trees   []tree
	forest  *forest // trees compiled for prediction
	// importance is each feature's share of the total split gain.
	importance []float64
}

var (
	_ ml.Model          = (*Model)(nil)
	_ ml.BatchPredictor = (*Model)(nil)
)

func newModel(d *ml.Dataset, m *binMapper, l loss, lossName string, base []float64, trees []tree, gains [][]splitGain) *Model {
	md := &Model{
		task:       d.Task,
		classes:    d.Classes,
		loss:       lossName,
		k:          l.scores(),
		levels:     make([]float64, d.X.Cols),
		base:       base,
		trees:      trees,
		importance: make([]float64, d.X.Cols),
	}
	if d.Task == ml.Regression {
		md.classes = 1
	}
	for j := range m.features {
		if m.features[j].categorical {
			md.levels[j] = float64(m.features[j].nBins)
		}
	}
	var total float64
	for _, sg := range gains {
		for _, s := range sg {
			md.importance[s.feature] += s.gain
			total += s.gain
		}
	}
	if total > 0 {
		for j := range md.importance {
			md.importance[j] /= total
		}
	}
	md.forest = compileForest(trees, md.levels)
	return md
}

// Outputs is the length of Predict's output: the number of classes, or 1
// for regression.
func (m *Model) Outputs() int { return ml.Outputs(m.task, m.classes) }

// Trees is the number of trees (rounds times trees per round).
func (m *Model) Trees() int { return len(m.trees) }

// Importance returns each feature's share of the loss reduction of all the
// model's splits (gain importance), summing to 1 (all 0 if the model has no
// split). The slice is a copy.
func (m *Model) Importance() []float64 { return slices.Clone(m.importance) }

// Predict writes class probabilities (binary: [P(0), P(1)]) or the
// regression value for row x to out. It does not allocate.
func (m *Model) Predict(x []float64, out []float64) {
	k, f := m.k, m.forest
	if k == 1 {
		m.link(f.sum(x, m.base[0], 0, len(f.roots), 1), out)
		return
	}
	out = out[:k]
	for c := range k {
		out[c] = f.sum(x, m.base[c], c, len(f.roots), k)
	}
	softmax(out, out)
}

// link writes the outputs of a single raw score s.
func (m *Model) link(s float64, out []float64) {
	if m.task == ml.Binary {
		p := sigmoid(s)
		out[0], out[1] = 1-p, p
	} else {
		out[0] = s
	}
}

// PredictBatch predicts every row of X into out (X.Rows*Outputs() values),
// spreading fixed chunks of rows over up to threads goroutines (0: every
// core). Within a chunk, blocks of rows walk each tree together.
func (m *Model) PredictBatch(X ml.Matrix, out []float64, threads int) {
	k := m.Outputs()
	nf := X.Cols
	parallelFor(chunks(X.Rows, predictChunk), threads, func(c int) {
		for lo := c * predictChunk; lo < min((c+1)*predictChunk, X.Rows); lo += blockRows {
			hi := min(lo+blockRows, (c+1)*predictChunk, X.Rows)
			m.predictBlock(X.Data[lo*nf:hi*nf], nf, out[lo*k:hi*k])
		}
	})
}

// predictBlock predicts up to blockRows rows. The raw scores add up in
// out itself: in the last slot of each row for one score (binary,
// regression), in the k slots for multiclass.
func (m *Model) predictBlock(X []float64, nf int, out []float64) {
	k, f := m.Outputs(), m.forest
	n := len(X) / nf
	at := k - 1 // where a single score is summed
	for j := range n {
		if m.k == 1 {
			out[j*k+at] = m.base[0]
		} else {
			copy(out[j*k:(j+1)*k], m.base)
		}
	}
	for ti := range f.roots {
		c := at
		if m.k > 1 {
			c = ti % m.k
		}
		f.addBlock(ti, X, nf, out[c:], k)
	}
	for j := range n {
		if m.k == 1 {
			m.link(out[j*k+at], out[j*k:(j+1)*k])
		} else {
			softmax(out[j*k:(j+1)*k], out[j*k:(j+1)*k])
		}
	}
}

// modelJSON is the encoded model. Trees are stored column-wise: node i of
// a tree is (feature[i], threshold[i], left[i], right[i], flags[i]).
// A child >= 0 is a node index, a child < 0 is leaf -child-1. A numeric
// node sends x left when x <= threshold (an infinite threshold is written
// as the largest float64); a categorical node (flags&1) sends code c left
// when bit c of the bitset starting at word threshold of cats is set.
// flags&2: missing values and unseen categories go left.
type modelJSON struct {
	Format     string     `json:"format"`
	Version    int        `json:"version"`
	Task       ml.Task    `json:"task"`
	Classes    int        `json:"classes"`
	Loss       string     `json:"loss"`
	Levels     []int      `json:"levels"`
	Baseline   []float64  `json:"baseline"`
	Importance []float64  `json:"importance"`
	Trees      []treeJSON `json:"trees"`
}

type treeJSON struct {
	Feature   []uint32  `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int64   `json:"left"`
	Right     []int64   `json:"right"`
	Flags     []int     `json:"flags"`
	Cats      []uint32  `json:"cats,omitempty"`
	Leaves    []float64 `json:"leaves"`
	// Cover is the training rows that reached each node, then each leaf
	// (absent in models encoded before it was kept: they cannot explain).
	Cover []float64 `json:"cover,omitempty"`
}

func childJSON(c uint32) int64 {
	if c&leafBit != 0 {
		return -int64(c&^leafBit) - 1
	}
	return int64(c)
}

// MarshalJSON encodes the model; the same model always gives the same bytes.
func (m *Model) MarshalJSON() ([]byte, error) {
	j := modelJSON{
		Format: modelFormat, Version: modelVersion, Task: m.task, Classes: m.classes, Loss: m.loss,
		Levels: make([]int, len(m.levels)), Baseline: m.base, Importance: m.importance,
		Trees: make([]treeJSON, len(m.trees)),
	}
	for i, l := range m.levels {
		j.Levels[i] = int(l)
	}
	for i := range m.trees {
		t := &m.trees[i]
		nn := len(t.nodes)
		tj := treeJSON{
			Feature: make([]uint32, 0, nn), Threshold: make([]float64, 0, nn), Left: make([]int64, 0, nn),
			Right: make([]int64, 0, nn), Flags: make([]int, 0, nn), Cats: t.cats, Leaves: t.leaves, Cover: t.cover,
		}
		for _, n := range t.nodes {
			thr := n.thr
			if math.IsInf(thr, 1) {
				thr = math.MaxFloat64
			}
			tj.Feature = append(tj.Feature, n.feature)
			tj.Threshold = append(tj.Threshold, thr)
			tj.Left = append(tj.Left, childJSON(n.left))
			tj.Right = append(tj.Right, childJSON(n.right))
			tj.Flags = append(tj.Flags, int(n.flags))
		}
		j.Trees[i] = tj
	}
	return json.Marshal(j)
}

// DecodeModel decodes a model encoded by Model.MarshalJSON, checking that
// every tree is well formed, so that a bad artifact fails here and not in
// Predict.
func DecodeModel(data []byte) (*Model, error) {
	var j modelJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("decode gbdt model: %w", err)
	}
	if j.Format != modelFormat || j.Version != modelVersion {
		return nil, fmt.Errorf("decode gbdt model: format %q version %d, want %q version %d", j.Format, j.Version, modelFormat, modelVersion)
	}
	m := &Model{task: j.Task, classes: j.Classes, loss: j.Loss, base: j.Baseline, importance: j.Importance}
	switch {
	case j.Task == ml.Binary && j.Classes == 2, j.Task == ml.Regression && j.Classes == 1:
		m.k = 1
	case j.Task == ml.Multiclass && j.Classes >= 3:
		m.k = j.Classes
	default:
		return nil, fmt.Errorf("decode gbdt model: task %q with %d classes", j.Task, j.Classes)
	}
	nf := len(j.Levels)
	if len(j.Baseline) != m.k || len(j.Trees)%m.k != 0 || len(j.Importance) != nf {
		return nil, errors.New("decode gbdt model: baseline, trees and importance do not fit the task and features")
	}
	m.levels = make([]float64, nf)
	for i, l := range j.Levels {
		if l < 0 || l > 256 {
			return nil, fmt.Errorf("decode gbdt model: feature %d has %d levels", i, l)
		}
		m.levels[i] = float64(l)
	}
	m.trees = make([]tree, len(j.Trees))
	for i := range j.Trees {
		t, err := decodeTree(&j.Trees[i], j.Levels)
		if err != nil {
			return nil, fmt.Errorf("decode gbdt model: tree %d: %w", i, err)
		}
		m.trees[i] = t
	}
	m.forest = compileForest(m.trees, m.levels)
	return m, nil
}

func decodeTree(tj *treeJSON, levels []int) (tree, error) {
	nn := len(tj.Feature)
	if len(tj.Threshold) != nn || len(tj.Left) != nn || len(tj.Right) != nn || len(tj.Flags) != nn {
		return tree{}, errors.New("node columns differ in length")
	}
	if len(tj.Leaves) != nn+1 {
		return tree{}, fmt.Errorf("%d leaves for %d nodes", len(tj.Leaves), nn)
	}
	t := tree{nodes: make([]node, nn), leaves: tj.Leaves, cats: tj.Cats, cover: tj.Cover}
	if tj.Cover != nil {
		if len(tj.Cover) != nn+len(tj.Leaves) {
			return tree{}, fmt.Errorf("%d covers for %d nodes and leaves", len(tj.Cover), nn+len(tj.Leaves))
		}
		for i, c := range tj.Cover {
			// A split node needs rows: TreeSHAP divides by its cover.
			if !(c >= 0 && c <= math.MaxFloat64) || (i < nn && c == 0) {
				return tree{}, fmt.Errorf("cover %d is %v, not a row count", i, c)
			}
		}
	}
	child := func(i int, c int64) (uint32, error) {
		switch {
		case c < 0 && -c-1 < int64(len(tj.Leaves)):
			return leafBit | uint32(-c-1), nil
		case c > int64(i) && c < int64(nn):
			// Children after their parent: every walk ends at a leaf.
			return uint32(c), nil
		}
		return 0, fmt.Errorf("node %d has bad child %d", i, c)
	}
	for i := range nn {
		f := tj.Feature[i]
		if int(f) >= len(levels) {
			return tree{}, fmt.Errorf("node %d splits feature %d of %d", i, f, len(levels))
		}
		n := node{feature: f, thr: tj.Threshold[i], flags: uint8(tj.Flags[i])}
		if tj.Flags[i] < 0 || tj.Flags[i] > int(flagCategorical|flagDefaultLeft) {
			return tree{}, fmt.Errorf("node %d has bad flags %d", i, tj.Flags[i])
		}
		if n.flags&flagCategorical != 0 {
			words := (levels[f] + 31) / 32
			if levels[f] == 0 || n.thr < 0 || n.thr != math.Trunc(n.thr) || int(n.thr)+words > len(tj.Cats) {
				return tree{}, fmt.Errorf("node %d has a bad category set", i)
			}
		} else if n.thr == math.MaxFloat64 {
			n.thr = math.Inf(1)
		}
		var err error
		if n.left, err = child(i, tj.Left[i]); err != nil {
			return tree{}, err
		}
		if n.right, err = child(i, tj.Right[i]); err != nil {
			return tree{}, err
		}
		t.nodes[i] = n
	}
	return t, nil
}
