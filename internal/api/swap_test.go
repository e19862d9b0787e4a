package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/train"
)

// swapFits are extra fits of the titanic pipeline (other seeds, so other
// artifacts) for the swap test's versions.
var swapFits = sync.OnceValues(func() ([]*train.FitResult, error) {
	f, err := fits()
	if err != nil {
		return nil, err
	}
	var out []*train.FitResult
	for seed := int64(100); seed < 112; seed++ {
		res, err := train.Fit(context.Background(), &train.FitParams{
			Pipeline: f.pipeline.Name, Schema: f.schema, Rows: f.rows, Algorithm: f.pipeline.Model.Algorithm,
			Params: f.pipeline.Model.Params, Seed: seed, Holdout: f.pipeline.Model.Holdout,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
})

// TestSwapUnderLoad promotes a new version every second for 30 s while
// several clients send predictions (the prototype route, both predict
// routes and the inference protocol's infer) over loopback HTTP without
// pause: no
// answer may fail, and every answer must come from a version that was
// production during the test, with that version's own predictions.
func TestSwapUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s under load; skipped with -short")
	}
	t.Parallel()
	const (
		window  = 30 * time.Second
		every   = time.Second
		clients = 4
	)
	extra, err := swapFits()
	if err != nil {
		t.Fatal(err)
	}
	_, b := setupWith(t, setupOpts{versions: 1, promote: true})
	// versions 2..13; only even ones are ever promoted, so an answer from
	// an odd one (never production) would show a wrong swap.
	results := map[int]*train.FitResult{1: b.fit.fits[0]}
	for _, fr := range extra {
		v := b.registerFit(t, fr)
		results[v.Version] = fr
	}
	var promoted []int
	for v := 2; v <= 13; v += 2 {
		promoted = append(promoted, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go func() { defer close(runDone); b.models.Run(ctx) }() // the periodic check, as in production
	defer func() { cancel(); <-runDone }()

	// the instances the clients send, and each version's answer to them
	rows := [][]any{{1, true, 22.0, "S"}, {3, false, 40.0, "Q"}, {2, true, -1.0, ""}, {1, false, 0.5, "C"}}
	infer := `{"inputs": [{"name": "class", "datatype": "INT64", "shape": [2], "data": [1, 3]},
		{"name": "sex", "datatype": "BYTES", "shape": [2], "data": ["F", "M"]},
		{"name": "age", "datatype": "FP64", "shape": [2], "data": [22, 40]},
		{"name": "embarked", "datatype": "BYTES", "shape": [2], "data": ["S", "Q"]}]}`
	bodies := []string{
		`{"class": 1, "sex": "female", "age": 22, "embarked": "S"}`,
		`{"instances": [{"class": 1, "sex": "F", "age": 22, "embarked": "S"}, {"class": 3, "sex": "M", "age": 40, "embarked": "Q"},
			{"class": 2, "sex": "female"}, {"class": 1, "sex": "male", "age": 0.5, "embarked": "C"}]}`,
	}
	want := func(v int, row []any) []float64 {
		out := make([]float64, 2)
		results[v].Model.PredictRow(titanicRow(row[0].(int), row[1].(bool), row[2].(float64), row[3].(string)), out)
		return out
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var (
		answers  atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		problems []string
		seen     = map[int]int{}
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			mu.Lock()
			problems = append(problems, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	}
	// checkInfer checks an infer answer: a version that was production, and
	// its probabilities for sent.
	checkInfer := func(body []byte, sent [][]any) {
		type tensor struct {
			Name string          `json:"name"`
			Data json.RawMessage `json:"data"` // strings for the label
		}
		var a struct {
			Version string   `json:"model_version"`
			Outputs []tensor `json:"outputs"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			fail("infer: %s: %v", body, err)
			return
		}
		v, err := strconv.Atoi(a.Version)
		if err != nil || v != 1 && !slices.Contains(promoted, v) {
			fail("infer answer names version %q, which was never production: %s", a.Version, body)
			return
		}
		mu.Lock()
		seen[v]++
		mu.Unlock()
		var probs []float64
		if i := slices.IndexFunc(a.Outputs, func(o tensor) bool { return o.Name == "probabilities" }); i >= 0 {
			json.Unmarshal(a.Outputs[i].Data, &probs)
		}
		if len(probs) != 2*len(sent) {
			fail("infer: no probabilities for %d rows: %s", len(sent), body)
			return
		}
		for j, row := range sent {
			if w, got := want(v, row), probs[2*j:2*j+2]; got[0] != w[0] || got[1] != w[1] {
				fail("infer: version %d answered %v for %v, its model says %v: the answer mixes versions", v, got, row, w)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				kind := (c + i) % 5
				switch kind {
				case 4:
					req, _ = http.NewRequest(http.MethodPost, b.url+"/v2/models/titanic/infer", bytes.NewBufferString(infer))
					req.Header.Set("Content-Type", "application/json")
				case 0:
					req, _ = http.NewRequest(http.MethodGet, b.url+"/?class=1&sex=F&age=22&embarked=S", nil)
				case 1:
					req, _ = http.NewRequest(http.MethodGet, b.url+"/v1/models/titanic/predict?class=3&sex=male&age=40&embarked=Q", nil)
				default:
					req, _ = http.NewRequest(http.MethodPost, b.url+"/v1/models/titanic/predict", bytes.NewBufferString(bodies[kind-2]))
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := client.Do(req)
				if err != nil {
					fail("%s %s: %v", req.Method, req.URL, err)
					continue
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				answers.Add(1)
				if err != nil || res.StatusCode/100 != 2 {
					fail("%s %s: status %d, err %v: %s", req.Method, req.URL, res.StatusCode, err, body)
					continue
				}
				if kind == 0 { // the prototype names no version: its result must be one of them
					var p prototype
					json.Unmarshal(body, &p)
					ok := false
					for v := range results {
						ok = ok || (slices.Contains(promoted, v) || v == 1) && want(v, rows[0])[1] == p.Data.Result
					}
					if !ok {
						fail("GET /: result %v is no production version's answer", p.Data.Result)
					}
					continue
				}
				if kind == 4 {
					checkInfer(body, rows[:2])
					continue
				}
				var p predictResponse
				if err := json.Unmarshal(body, &p); err != nil {
					fail("%s: %v", body, err)
					continue
				}
				if p.Version != 1 && !slices.Contains(promoted, p.Version) {
					fail("answer names version %d, which was never production: %s", p.Version, body)
					continue
				}
				mu.Lock()
				seen[p.Version]++
				mu.Unlock()
				sent := map[int][][]any{1: {rows[1]}, 2: {rows[0]}, 3: rows}[kind]
				if len(p.Predictions) != len(sent) {
					fail("%d predictions for %d instances", len(p.Predictions), len(sent))
					continue
				}
				for j, row := range sent {
					w := want(p.Version, row)
					if got := p.Predictions[j].Probabilities; got["0"] != w[0] || got["1"] != w[1] {
						fail("version %d answered %v for %v, its model says %v: the answer mixes versions", p.Version, got, row, w)
					}
				}
			}
		})
	}

	start := time.Now()
	tick := time.NewTicker(every)
	n := 0
	for time.Since(start) < window {
		<-tick.C
		v := promoted[n%len(promoted)]
		n++
		r := b.post(t, fmt.Sprintf("/v1/models/titanic/versions/%d/promote", v), "")
		if r.status != http.StatusOK {
			t.Errorf("promote v%d: status %d: %s", v, r.status, r.body)
		}
		if got := b.served(t); got != v {
			t.Errorf("after promoting v%d the api serves v%d", v, got)
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	if f := failures.Load(); f > 0 {
		t.Errorf("%d of %d answers failed", f, answers.Load())
	}
	swaps, fails := b.swapsAndFails()
	t.Logf("%d answers in %v, %d promotions, %d swaps, answers by version %v", answers.Load(), time.Since(start).Round(time.Millisecond), n, len(swaps), seen)
	if len(fails) > 0 {
		t.Errorf("failed loads: %v", fails)
	}
	if n < int(window/every)-1 || len(swaps) < n {
		t.Errorf("%d promotions and %d swaps in %v; want about %d of each", n, len(swaps), window, window/every)
	}
	if len(seen) < len(promoted) {
		t.Errorf("answers came from versions %v; want every promoted one %v", seen, promoted)
	}
	if answers.Load() < 1000 {
		t.Errorf("only %d answers in %v: the load was not continuous", answers.Load(), window)
	}
	// The registry's history agrees: every promoted version was production.
	ps, err := b.db.PromotionList(context.Background(), "titanic")
	if err != nil {
		t.Fatal(err)
	}
	was := map[int]bool{}
	for _, p := range ps {
		if p.Action == store.ActionPromote {
			was[p.ToVersion] = true
		}
	}
	for v := range seen {
		if !was[v] {
			t.Errorf("version %d answered but the registry never promoted it", v)
		}
	}
}

// registerFit publishes fr and registers it as the next version.
func (b *testBundle) registerFit(t testing.TB, fr *train.FitResult) *store.Version {
	t.Helper()
	ctx := context.Background()
	key, err := b.reg.Publish(ctx, "titanic", fr.Bytes, fr.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.db.VersionCreate(ctx, &store.VersionCreateParams{
		Pipeline: "titanic", Algorithm: fr.Artifact.Algorithm, Metrics: fr.Metrics,
		ArtifactSHA256: fr.SHA256, ArtifactKey: key, DataRows: int64(len(b.fit.rows)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
