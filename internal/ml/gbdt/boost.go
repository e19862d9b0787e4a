package gbdt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/mlserve/mlserve/internal/ml"
)

// rowChunk is the row chunk of parallel per-row loops (gradients, score
// updates). It is fixed so that chunking never depends on the thread count.
const rowChunk = 16_384

// earlyStoppingTol is the least drop of the validation loss that counts as
// an improvement, as scikit-learn's tol.
const earlyStoppingTol = 1e-7

// Trainer fits gradient-boosted trees. Make one with Algorithm.NewTrainer.
type Trainer struct {
	task ml.Task
	p    params
	seed int64
	// threads caps the goroutines of a fit, 0 for every core. The fitted
	// model does not depend on it.
	threads int
}

var _ ml.Trainer = (*Trainer)(nil)

// splitGain is one split's feature and gain, kept per tree so that the
// importance of a model cut short by early stopping counts only its trees.
type splitGain struct {
	feature int
	gain    float64
}

// Fit trains on d. It checks ctx between trees.
func (t *Trainer) Fit(ctx context.Context, d *ml.Dataset, progress ml.Progress) (ml.Model, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.Task != t.task {
		return nil, fmt.Errorf("%w: %s, want %s", errTaskMismatch, d.Task, t.task)
	}
	p := t.p
	lossFn, err := newLoss(d.Task, d.Classes, p.loss)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(t.seed), 0x6762_6474)) // "gbdt"
	trainRows, valRows := holdoutRows(d.X.Rows, p, rng)

	mapper := newBinMapper(d.X, trainRows, d.Features, p.maxBins, rng, t.threads)
	codes := mapper.binRows(d.X, trainRows, t.threads)
	valCodes := mapper.binRows(d.X, valRows, t.threads)
	nf := d.X.Cols
	y := pick(d.Y, trainRows)
	yVal := pick(d.Y, valRows)
	n, k := len(trainRows), lossFn.scores()

	base := lossFn.baseline(y)
	raw := make([]float64, n*k)
	valRaw := make([]float64, len(valRows)*k)
	for i := range raw {
		raw[i] = base[i%k]
	}
	for i := range valRaw {
		valRaw[i] = base[i%k]
	}
	gh := make([][]gradPair, k)
	for c := range gh {
		gh[c] = make([]gradPair, n)
	}
	g := newGrower(growParams{maxDepth: p.maxDepth, maxLeaves: p.maxLeaves, minSamplesLeaf: p.minSamplesLeaf, l2: p.l2},
		&codes, mapper, t.threads)
	all := make([]uint32, n)
	for i := range all {
		all[i] = uint32(i)
	}
	allFeats := make([]int, nf)
	for j := range allFeats {
		allFeats[j] = j
	}

	var trees []tree
	var gains [][]splitGain
	bestLoss, bestRound := 0.0, -1
	for round := 0; round < p.nTrees; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lossFn.prepare(y, raw)
		parallelFor(chunks(n, rowChunk), t.threads, func(c int) {
			lossFn.gradients(y, raw, gh, c*rowChunk, min((c+1)*rowChunk, n))
		})
		rows := sampleRows(all, p.subsample, rng)
		feats := sampleFeatures(allFeats, p.colsample, rng)
		for c := range k {
			nodes := g.grow(rows, gh[c], feats)
			var sg []splitGain
			for i := range nodes {
				nd := &nodes[i]
				if !nd.isLeaf() {
					sg = append(sg, splitGain{nd.split.feature, nd.split.gain})
					continue
				}
				if v, ok := lossFn.refit(y, raw, g.rows[nd.start:nd.end], k); ok {
					nd.value = v
				}
				nd.value *= p.learningRate
			}
			g.addScores(raw, k, c, len(rows) == n, &codes)
			for i := range len(valRows) {
				valRaw[i*k+c] += nodes[leafOf(nodes, mapper, valCodes.row(i))].value
			}
			trees = append(trees, newTree(nodes, mapper, 1))
			gains = append(gains, sg)
		}
		if progress != nil {
			progress("trees", round+1, p.nTrees)
		}
		if len(valRows) == 0 {
			continue
		}
		if l := lossFn.eval(yVal, valRaw); bestRound < 0 || l < bestLoss-earlyStoppingTol {
			bestLoss, bestRound = l, round
		} else if round-bestRound >= p.earlyStoppingRounds {
			trees, gains = trees[:(bestRound+1)*k], gains[:(bestRound+1)*k]
			if progress != nil {
				progress("trees", p.nTrees, p.nTrees)
			}
			break
		}
	}
	return newModel(d, mapper, lossFn, p.loss, base, trees, gains), nil
}

// addScores adds the leaf values of the tree just grown to column c of the
// raw scores of the training rows. When the tree saw every row, each
// leaf's rows are at hand; otherwise every row is routed by its codes.
func (g *grower) addScores(raw []float64, k, c int, sawAll bool, codes *codeMatrix) {
	nodes := g.nodes
	if sawAll {
		var leaves []int
		for i := range nodes {
			if nodes[i].isLeaf() {
				leaves = append(leaves, i)
			}
		}
		// Threads take ranges of row ids, not leaves: the rows of two
		// leaves interleave in raw, and threads writing the same cache
		// lines would slow each other down. A leaf's rows are ascending,
		// so its rows in a range are found by binary search.
		n := len(raw) / k
		parallelFor(chunks(n, rowChunk), g.hb.threads, func(ch int) {
			lo, hi := uint32(ch*rowChunk), uint32(min((ch+1)*rowChunk, n))
			for _, l := range leaves {
				nd := &nodes[l]
				rows := g.rows[nd.start:nd.end]
				i, _ := slices.BinarySearch(rows, lo)
				j, _ := slices.BinarySearch(rows, hi)
				for _, r := range rows[i:j] {
					raw[int(r)*k+c] += nd.value
				}
			}
		})
		return
	}
	n := len(raw) / k
	parallelFor(chunks(n, rowChunk), g.hb.threads, func(ch int) {
		for r := ch * rowChunk; r < min((ch+1)*rowChunk, n); r++ {
			raw[r*k+c] += nodes[leafOf(nodes, g.sp.mapper, codes.row(r))].value
		}
	})
}

// holdoutRows splits row indices into training and validation rows (both
// ascending). Without early stopping, or with too few rows to spare, every
// row trains.
func holdoutRows(n int, p params, rng *rand.Rand) (train, val []int) {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	nVal := int(float64(n) * p.validationFraction)
	if p.earlyStoppingRounds == 0 || nVal < 1 || n-nVal < 2 {
		return all, nil
	}
	rng.Shuffle(n, func(i, j int) { all[i], all[j] = all[j], all[i] })
	val, train = all[:nVal], all[nVal:]
	slices.Sort(val)
	slices.Sort(train)
	return train, val
}

// sampleRows returns each row with probability frac (all rows for 1), or
// all rows should none be drawn.
func sampleRows(all []uint32, frac float64, rng *rand.Rand) []uint32 {
	if frac >= 1 {
		return all
	}
	out := make([]uint32, 0, int(float64(len(all))*frac*1.1)+1)
	for _, r := range all {
		if rng.Float64() < frac {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// sampleFeatures returns round(frac·n) of the features (at least one),
// ascending.
func sampleFeatures(all []int, frac float64, rng *rand.Rand) []int {
	if frac >= 1 {
		return all
	}
	m := max(1, int(float64(len(all))*frac+0.5))
	perm := rng.Perm(len(all))[:m]
	slices.Sort(perm)
	return perm
}

// pick returns v at the given indices.
func pick(v []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}
