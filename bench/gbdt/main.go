// Command gbdt-bench fits mlserve's gbdt on the synthetic benchmark CSV
// (gen_synth.py: x0..x16 numeric, c0..c2 integer category codes, y 0/1),
// trains on the first rows, scores the last ones and prints one JSON object:
// fit seconds (and the CPU this process and the rest of the machine used
// meanwhile), holdout AUC, batch prediction rows/s and peak RSS.
//
//	go run ./bench/gbdt -csv /tmp/synth1m.csv -param max_depth=6 -param learning_rate=0.3
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/ml/gbdt"
)

type paramFlags ml.Params

func (p paramFlags) String() string { return fmt.Sprint(map[string]any(p)) }

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want name=value, got %q", s)
	}
	p[k] = v
	return nil
}

type result struct {
	Rows             int       `json:"rows"`
	TrainRows        int       `json:"train_rows"`
	HoldoutRows      int       `json:"holdout_rows"`
	NativeCategories bool      `json:"native_categories"`
	Threads          int       `json:"threads"`
	Params           ml.Params `json:"params"`
	Trees            int       `json:"trees"`
	LoadSeconds      float64   `json:"load_seconds"`
	FitSeconds       float64   `json:"fit_seconds"`
	FitSecondsAll    []float64 `json:"fit_seconds_all"`
	FitCPUSeconds    float64   `json:"fit_cpu_seconds"`
	FitOtherCores    float64   `json:"fit_other_cores"`
	HoldoutAUC       float64   `json:"holdout_auc"`
	PredictSeconds   float64   `json:"predict_seconds"`
	PredictRowsPerS  float64   `json:"predict_rows_per_s"`
	PredictOther     float64   `json:"predict_other_cores"`
	PeakRSSMB        float64   `json:"peak_rss_mb"`
}

func main() {
	params := paramFlags{}
	csvPath := flag.String("csv", "/tmp/synth1m.csv", "synthetic CSV from gen_synth.py")
	trainFrac := flag.Float64("train", 0.8, "fraction of rows (a prefix) to train on; the rest is the holdout")
	native := flag.Bool("native", true, "split c0..c2 as categories (false: as numbers, as XGBoost gets them)")
	reps := flag.Int("reps", 1, "fits to time (the median is reported)")
	predReps := flag.Int("predict-reps", 3, "batch predictions of all rows to time (median)")
	seed := flag.Int64("seed", 0, "training seed")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the fits to this file")
	flag.Var(params, "param", "gbdt param name=value (repeatable)")
	flag.Parse()
	if err := run(*csvPath, *trainFrac, *native, *reps, *predReps, *seed, *cpuProfile, ml.Params(params)); err != nil {
		fmt.Fprintln(os.Stderr, "gbdt-bench:", err)
		os.Exit(1)
	}
}

func run(path string, trainFrac float64, native bool, reps, predReps int, seed int64, cpuProfile string, params ml.Params) error {
	t0 := time.Now()
	X, y, feats, err := readSynth(path, native)
	if err != nil {
		return err
	}
	res := result{Rows: X.Rows, NativeCategories: native, Threads: runtime.GOMAXPROCS(0), LoadSeconds: time.Since(t0).Seconds()}
	res.TrainRows = int(float64(X.Rows) * trainFrac)
	res.HoldoutRows = X.Rows - res.TrainRows
	train := &ml.Dataset{
		X:        ml.Matrix{Rows: res.TrainRows, Cols: X.Cols, Data: X.Data[:res.TrainRows*X.Cols]},
		Y:        y[:res.TrainRows],
		Features: feats,
		Task:     ml.Binary,
		Classes:  2,
	}
	hold := ml.Matrix{Rows: res.HoldoutRows, Cols: X.Cols, Data: X.Data[res.TrainRows*X.Cols:]}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var model ml.Model
	var cpus []float64
	for range reps {
		tr, resolved, err := gbdt.Algorithm.NewTrainer(ml.Binary, params, seed)
		if err != nil {
			return err
		}
		res.Params = resolved
		runtime.GC()
		b0, c0, start := machineBusy(), ownCPU(), time.Now()
		model, err = tr.Fit(context.Background(), train, nil)
		if err != nil {
			return err
		}
		w, c := time.Since(start).Seconds(), ownCPU()-c0
		res.FitSecondsAll = append(res.FitSecondsAll, w)
		cpus = append(cpus, c)
		res.FitOtherCores = max(res.FitOtherCores, (machineBusy()-b0-c)/w)
	}
	res.FitSeconds = median(res.FitSecondsAll)
	res.FitCPUSeconds = median(cpus)
	res.Trees = model.(*gbdt.Model).Trees()

	p := ml.PredictAll(model, hold)
	pos := make([]float64, hold.Rows)
	for i := range pos {
		pos[i] = p[2*i+1]
	}
	res.HoldoutAUC = auc(y[res.TrainRows:], pos)

	out := make([]float64, X.Rows*model.Outputs())
	bp := model.(ml.BatchPredictor)
	var times []float64
	for range predReps {
		b0, c0, start := machineBusy(), ownCPU(), time.Now()
		bp.PredictBatch(X, out, 0)
		w := time.Since(start).Seconds()
		times = append(times, w)
		res.PredictOther = max(res.PredictOther, (machineBusy()-b0-(ownCPU()-c0))/w)
	}
	res.PredictSeconds = median(times)
	res.PredictRowsPerS = float64(X.Rows) / res.PredictSeconds
	res.PeakRSSMB = peakRSSMB()
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// readSynth reads the CSV: every column but y is a feature; c* columns are
// category codes (levels = largest code + 1).
func readSynth(path string, native bool) (ml.Matrix, []float64, []ml.Feature, error) {
	f, err := os.Open(path)
	if err != nil {
		return ml.Matrix{}, nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return ml.Matrix{}, nil, nil, fmt.Errorf("%s: no header", path)
	}
	header := strings.Split(sc.Text(), ",")
	yCol := slices.Index(header, "y")
	if yCol < 0 {
		return ml.Matrix{}, nil, nil, fmt.Errorf("%s: no y column", path)
	}
	var feats []ml.Feature
	var cols []int
	for i, h := range header {
		if i == yCol {
			continue
		}
		feats = append(feats, ml.Feature{Name: h, Categorical: native && strings.HasPrefix(h, "c")})
		cols = append(cols, i)
	}
	nf := len(feats)
	var data, y []float64
	fields := make([][]byte, len(header))
	line := 1
	for sc.Scan() {
		line++
		b := sc.Bytes()
		for i := range fields {
			j := bytes.IndexByte(b, ',')
			if j < 0 {
				j = len(b)
			}
			fields[i] = b[:j]
			b = b[min(j+1, len(b)):]
		}
		for _, c := range cols {
			v, err := strconv.ParseFloat(string(fields[c]), 64)
			if err != nil {
				return ml.Matrix{}, nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			data = append(data, v)
		}
		v, err := strconv.ParseFloat(string(fields[yCol]), 64)
		if err != nil {
			return ml.Matrix{}, nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		y = append(y, v)
	}
	if err := sc.Err(); err != nil {
		return ml.Matrix{}, nil, nil, err
	}
	X := ml.Matrix{Rows: len(y), Cols: nf, Data: data}
	for j := range feats {
		if feats[j].Categorical {
			hi := 0.0
			for i := range X.Rows {
				hi = max(hi, X.Data[i*nf+j])
			}
			feats[j].Levels = int(hi) + 1
		}
	}
	return X, y, feats, nil
}

// auc is the area under the ROC curve of scores s for labels y (0/1), with
// tied scores counted half (the Mann-Whitney statistic).
func auc(y, s []float64) float64 {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := float64(len(y)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// machineBusy returns the CPU seconds the whole machine has been busy
// (/proc/stat: user, nice, system, irq, softirq; 100 ticks a second).
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, _ := strconv.ParseFloat(f[i], 64)
		busy += v
	}
	return busy / 100
}

// ownCPU returns the CPU seconds this process has used.
func ownCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMB reads the process's peak resident set size (VmHWM).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
