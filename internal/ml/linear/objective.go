package linear

import (
	"math"
	"slices"
	"sync"

	"github.com/mlserve/mlserve/internal/ml"
)

// chunkRows is the number of rows whose loss and gradient one task sums.
// The chunking depends on the row count only, and the per-chunk sums are
// added in chunk order, so the objective is bit-identical whatever the
// number of workers.
const chunkRows = 2048

// objective is scikit-learn's L2-penalised logistic loss divided by C·n:
//
//	f(θ) = (1/n)·(Σᵢ lossᵢ + ‖W‖²/(2C))
//
// with the intercepts unpenalised. It has the minimiser of sklearn's
// C·Σ lossᵢ + ½‖W‖²; the 1/n scale makes tol independent of the row count.
//
// θ holds one block of p weights followed by the intercept per output:
// one block for binary (sigmoid of class 1), K blocks for multinomial
// (softmax, as sklearn's multinomial lbfgs).
type objective struct {
	x       ml.Matrix
	y       []int
	rows    []int // the rows of x to fit (all, or a CV training fold)
	blocks  int   // 1 for binary, K for multinomial
	c       float64
	workers int

	partial [][]float64 // per chunk: gradient then loss at the end

	// Cache of the last evaluation, since the optimizer asks for the value
	// and the gradient at the same point separately.
	lastX    []float64
	lastF    float64
	lastGrad []float64
	evals    int // evaluations made
}

func newObjective(x ml.Matrix, y []int, rows []int, blocks int, c float64, workers int) *objective {
	dim := blocks * (x.Cols + 1)
	chunks := (len(rows) + chunkRows - 1) / chunkRows
	o := &objective{x: x, y: y, rows: rows, blocks: blocks, c: c, workers: max(1, workers),
		partial: make([][]float64, chunks), lastGrad: make([]float64, dim)}
	for i := range o.partial {
		o.partial[i] = make([]float64, dim+1)
	}
	return o
}

func (o *objective) dim() int { return o.blocks * (o.x.Cols + 1) }

// Func returns f(θ).
func (o *objective) Func(theta []float64) float64 {
	o.eval(theta)
	return o.lastF
}

// Grad writes ∇f(θ) into grad.
func (o *objective) Grad(grad, theta []float64) {
	o.eval(theta)
	copy(grad, o.lastGrad)
}

func (o *objective) eval(theta []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, theta) {
		return
	}
	chunks := len(o.partial)
	if o.workers == 1 || chunks == 1 {
		for i := range chunks {
			o.chunk(i, theta)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int, chunks)
		for i := range chunks {
			next <- i
		}
		close(next)
		for range min(o.workers, chunks) {
			wg.Go(func() {
				for i := range next {
					o.chunk(i, theta)
				}
			})
		}
		wg.Wait()
	}

	p, dim := o.x.Cols, o.dim()
	grad := o.lastGrad
	clear(grad)
	var loss float64
	for _, part := range o.partial {
		for j := range dim {
			grad[j] += part[j]
		}
		loss += part[dim]
	}
	var penalty float64
	for k := range o.blocks {
		w := theta[k*(p+1) : k*(p+1)+p]
		g := grad[k*(p+1) : k*(p+1)+p]
		for j, v := range w {
			penalty += v * v
			g[j] += v / o.c
		}
	}
	inv := 1 / float64(len(o.rows))
	for j := range grad {
		grad[j] *= inv
	}
	o.lastF = (loss + penalty/(2*o.c)) * inv
	o.lastX = append(o.lastX[:0], theta...)
	o.evals++
}

// chunk sums the loss and its gradient over the rows of chunk i into
// o.partial[i].
func (o *objective) chunk(i int, theta []float64) {
	part := o.partial[i]
	clear(part)
	p, dim := o.x.Cols, o.dim()
	rows := o.rows[i*chunkRows : min((i+1)*chunkRows, len(o.rows))]
	var loss float64
	if o.blocks == 1 {
		w, b := theta[:p], theta[p]
		for _, r := range rows {
			x := o.x.Row(r)
			z := b + dot(w, x)
			// log(1+e^z) − y·z, and its derivative σ(z) − y.
			var res float64
			if o.y[r] == 1 {
				loss += log1pExp(-z)
				res = sigmoid(z) - 1
			} else {
				loss += log1pExp(z)
				res = sigmoid(z)
			}
			g := part[:p]
			for j, v := range x {
				g[j] += res * v
			}
			part[p] += res
		}
		part[dim] = loss
		return
	}
	z := make([]float64, o.blocks)
	for _, r := range rows {
		x := o.x.Row(r)
		for k := range o.blocks {
			blk := theta[k*(p+1) : (k+1)*(p+1)]
			z[k] = blk[p] + dot(blk[:p], x)
		}
		// log Σ e^z − z_y, and its derivative softmax(z) − onehot(y).
		zmax := slices.Max(z)
		yk := o.y[r]
		zy := z[yk] - zmax
		var sum float64
		for k := range z {
			z[k] = math.Exp(z[k] - zmax)
			sum += z[k]
		}
		loss += math.Log(sum) - zy
		for k := range z {
			res := z[k] / sum
			if k == yk {
				res--
			}
			g := part[k*(p+1) : (k+1)*(p+1)]
			for j, v := range x {
				g[j] += res * v
			}
			g[p] += res
		}
	}
	part[dim] = loss
}

func dot(w, x []float64) float64 {
	var s float64
	for j, v := range w {
		s += v * x[j]
	}
	return s
}

// sigmoid is 1/(1+e^−z) without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// log1pExp is log(1+e^z) without overflow.
func log1pExp(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}
