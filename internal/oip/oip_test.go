package oip_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/fasthttpserver"
	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
	"github.com/mlserve/mlserve/internal/version"
)

// oipError checks a protocol error: the status, JSON content, exactly
// {"error": "…"} with a message containing each of want.
func oipError(t *testing.T, r *apitest.Response, status int, want ...string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: got %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	msg, ok := m["error"].(string)
	if len(m) != 1 || !ok || msg == "" {
		t.Fatalf("body %s: want exactly {\"error\": \"message\"}", r.Body)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	return msg
}

func decode[T any](t *testing.T, r *apitest.Response, status int) T {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status: got %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMeta struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

func TestServerRoutes(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})

	for _, path := range []string{"/v2", "/v2/"} {
		m := decode[map[string]any](t, env.Do(t, "GET", path, "", ""), 200)
		want := map[string]any{"name": "mlserve", "version": version.Version, "extensions": []any{}}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("GET %s: got %v, want %v", path, m, want)
		}
	}
	if r := env.Do(t, "HEAD", "/v2", "", ""); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("HEAD /v2: %d %q", r.Status, r.Body)
	}
	if m := decode[map[string]any](t, env.Do(t, "GET", "/v2/health/live", "", ""), 200); !reflect.DeepEqual(m, map[string]any{"live": true}) {
		t.Errorf("live: %v", m)
	}
	if m := decode[map[string]any](t, env.Do(t, "GET", "/v2/health/ready", "", ""), 200); !reflect.DeepEqual(m, map[string]any{"ready": true}) {
		t.Errorf("ready: %v", m)
	}

	t.Run("not ready before the first registry check", func(t *testing.T) {
		t.Parallel()
		env := apitest.Start(t, apitest.Options{NoReload: true})
		m := decode[map[string]any](t, env.Do(t, "GET", "/v2/health/ready", "", ""), 503)
		if m["ready"] != false || m["error"] == "" {
			t.Errorf("ready: %v", m)
		}
		r := env.Do(t, "GET", "/v2/models/titanic/ready", "", "")
		m = decode[map[string]any](t, r, 503)
		if m["ready"] != false || m["name"] != "titanic" || !strings.Contains(fmt.Sprint(m["error"]), "no production version") {
			t.Errorf("model ready: %v", m)
		}
		// A registered version is ready on its own route: it loads from the registry.
		if m := decode[map[string]any](t, env.Do(t, "GET", "/v2/models/titanic/versions/2/ready", "", ""), 200); m["ready"] != true {
			t.Errorf("version 2 ready: %v", m)
		}
	})

	t.Run("unknown routes and methods", func(t *testing.T) {
		t.Parallel()
		r := env.Do(t, "GET", "/v2/models/titanic/infer", "", "")
		oipError(t, r, 405, "GET", "POST")
		if got := r.Header.Get("Allow"); got != "POST" {
			t.Errorf("Allow: got %q, want POST", got)
		}
		r = env.Do(t, "DELETE", "/v2", "", "")
		oipError(t, r, 405)
		if got := r.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("Allow: got %q, want GET, HEAD", got)
		}
		r = env.Do(t, "POST", "/v2/models/titanic", "application/json", "{}")
		oipError(t, r, 405)
		oipError(t, env.Do(t, "GET", "/v2/nope", "", ""), 404, "/v2/nope")
		oipError(t, env.Do(t, "GET", "/v2/models/titanic/versions/1/extra", "", ""), 404)
	})
}

func TestModelMetadata(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	tests := []struct {
		path string
		want modelMeta
	}{
		{"/v2/models/titanic", modelMeta{Name: "titanic", Versions: []string{"1", "2"}, Platform: "mlserve_logistic",
			Inputs:  []tensorMeta{{"class", "BYTES", []int64{-1}}, {"sex", "BYTES", []int64{-1}}, {"age", "FP64", []int64{-1}}, {"embarked", "BYTES", []int64{-1}}},
			Outputs: []tensorMeta{{"label", "BYTES", []int64{-1}}, {"probabilities", "FP64", []int64{-1, 2}}}}},
		{"/v2/models/titanic/versions/2", modelMeta{Name: "titanic", Versions: []string{"1", "2"}, Platform: "mlserve_logistic",
			Inputs:  []tensorMeta{{"class", "BYTES", []int64{-1}}, {"sex", "BYTES", []int64{-1}}, {"age", "FP64", []int64{-1}}, {"embarked", "BYTES", []int64{-1}}},
			Outputs: []tensorMeta{{"label", "BYTES", []int64{-1}}, {"probabilities", "FP64", []int64{-1, 2}}}}},
		{"/v2/models/iris", modelMeta{Name: "iris", Versions: []string{"1"}, Platform: "mlserve_logistic",
			Inputs:  []tensorMeta{{"sepal_length", "FP64", []int64{-1}}, {"sepal_width", "FP64", []int64{-1}}, {"petal_length", "FP64", []int64{-1}}, {"petal_width", "FP64", []int64{-1}}},
			Outputs: []tensorMeta{{"label", "BYTES", []int64{-1}}, {"probabilities", "FP64", []int64{-1, 3}}}}},
		{"/v2/models/tips/versions/1", modelMeta{Name: "tips", Versions: []string{"1"}, Platform: "mlserve_linear",
			Inputs: []tensorMeta{{"total_bill", "FP64", []int64{-1}}, {"sex", "BYTES", []int64{-1}}, {"smoker", "BOOL", []int64{-1}},
				{"day", "BYTES", []int64{-1}}, {"time", "BYTES", []int64{-1}}, {"size", "INT64", []int64{-1}}},
			Outputs: []tensorMeta{{"value", "FP64", []int64{-1}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			r := env.Do(t, "GET", tt.path, "", "")
			if got := decode[modelMeta](t, r, 200); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if m := decode[map[string]any](t, env.Do(t, "GET", tt.path+"/ready", "", ""), 200); m["ready"] != true || m["name"] != tt.want.Name {
				t.Errorf("ready: %v", m)
			}
		})
	}
	errCases := []struct {
		path   string
		status int
		want   []string
	}{
		{"/v2/models/nope", 404, []string{`"nope"`, "titanic"}},
		{"/v2/models/nope/ready", 404, []string{`"nope"`}},
		{"/v2/models/titanic/versions/9", 404, []string{"titanic", "9"}},
		{"/v2/models/titanic/versions/9/ready", 404, []string{"9"}},
		{"/v2/models/titanic/versions/0", 404, []string{`"0"`}},
		{"/v2/models/titanic/versions/abc", 404, []string{`"abc"`}},
		{"/v2/models/sensors", 503, []string{"sensors", "no production version"}},
		{"/v2/models/sensors/versions/1", 404, []string{"sensors"}},
	}
	for _, tt := range errCases {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			oipError(t, env.Do(t, "GET", tt.path, "", ""), tt.status, tt.want...)
		})
	}
	t.Run("sensors not ready", func(t *testing.T) {
		t.Parallel()
		m := decode[map[string]any](t, env.Do(t, "GET", "/v2/models/sensors/ready", "", ""), 503)
		if m["ready"] != false || m["name"] != "sensors" {
			t.Errorf("got %v", m)
		}
	})
}

func TestUnusableVersion(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	ctx := context.Background()
	v, err := env.Store.VersionGet(ctx, "titanic", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Bucket.Put(ctx, v.ArtifactKey, []byte("not an artifact")); err != nil {
		t.Fatal(err)
	}
	d := env.Data["titanic"]
	req := body(t, map[string]any{"inputs": tensors(t, d, []int{0})})
	// 409, as on /v1: one classifier (httpx.Classify) answers both.
	oipError(t, sameInProcess(t, env, "/v2/models/titanic/versions/2/infer", req, ""), 409, "missing or corrupt")
	oipError(t, env.Do(t, "GET", "/v2/models/titanic/versions/2/ready", "", ""), 409, "missing or corrupt")
	// Production (version 1) still answers.
	a := decode[inferAnswer](t, env.Do(t, "POST", "/v2/models/titanic/infer", "application/json", req), 200)
	checkOutputs(t, a, d, want(t, d, 0, []int{0}))
}

// countingStore is the test server's real store, counting the version
// records read from it.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) VersionGet(ctx context.Context, pipeline string, version int) (*store.Version, error) {
	c.gets.Add(1)
	return c.Store.VersionGet(ctx, pipeline, version)
}

// TestVersionRecordsRemembered checks that a version route reads a
// version's record from the store once, not per request, and still reads
// it for a version the store did not have.
func TestVersionRecordsRemembered(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	db := &countingStore{Store: env.Store}
	srv := oip.New(oip.Config{Pipelines: apitest.Names, Models: env.Models, Registry: env.Registry, Store: db})
	mux := http.NewServeMux()
	srv.Routes(mux)
	d := env.Data["titanic"]
	req := body(t, map[string]any{"inputs": tensors(t, d, []int{0, 1})})
	send := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(req)))
		return w
	}
	for range 20 {
		w := send("/v2/models/titanic/versions/2/infer")
		var a inferAnswer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != 200 || a.ModelVersion != "2" {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		checkOutputs(t, a, d, want(t, d, 1, []int{0, 1}))
	}
	if n := db.gets.Load(); n != 1 {
		t.Errorf("20 requests to version 2 read its record %d times, want once", n)
	}
	for range 2 {
		if w := send("/v2/models/titanic/versions/7/infer"); w.Code != 404 {
			t.Fatalf("version 7: status %d: %s", w.Code, w.Body)
		}
	}
	if n := db.gets.Load(); n != 3 {
		t.Errorf("after 2 requests to a version the store lacks: %d reads, want 3 (a miss is not remembered)", n)
	}
}

// TestVersionRecordKeyIsNotRequestBytes checks that the version records a
// version route remembers are keyed by the model's configured name, not
// by the name's bytes in the request: on the fasthttp server those are the
// connection's buffer, which its next request overwrites, and the record
// was then read again (and the cache held a key a client wrote).
func TestVersionRecordKeyIsNotRequestBytes(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	db := &countingStore{Store: env.Store}
	srv := oip.New(oip.Config{Pipelines: apitest.Names, Models: env.Models, Registry: env.Registry, Store: db})
	mux := http.NewServeMux()
	srv.Routes(mux)
	url := apitest.Serve(t, mux, srv.ServingRoutes(), fasthttpserver.Options{})
	req := body(t, map[string]any{"inputs": tensors(t, env.Data["titanic"], []int{0})})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	send := func(c net.Conn, br *bufio.Reader, path string, status int) {
		t.Helper()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: oip.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(req), req)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != status {
			t.Fatalf("POST %s: status %d, want %d: %s", path, res.StatusCode, status, data)
		}
	}
	send(conn, br, "/v2/models/titanic/versions/2/infer", 200)
	send(conn, br, "/v2/models/HUNTER2/versions/2/infer", 404) // the same bytes where "titanic" was
	other, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	send(other, bufio.NewReader(other), "/v2/models/titanic/versions/2/infer", 200)
	if n := db.gets.Load(); n != 1 {
		t.Errorf("version 2's record was read %d times, want once (the second request on another connection found it remembered)", n)
	}
}

// input is a request input tensor.
type input struct {
	Name     string  `json:"name"`
	Shape    []int64 `json:"shape"`
	Datatype string  `json:"datatype"`
	Data     any     `json:"data"`
}

type output struct {
	Name       string         `json:"name"`
	Datatype   string         `json:"datatype"`
	Shape      []int          `json:"shape"`
	Parameters map[string]any `json:"parameters"`
	Data       []any          `json:"data"`
}

type inferAnswer struct {
	ModelName    string   `json:"model_name"`
	ModelVersion string   `json:"model_version"`
	ID           string   `json:"id"`
	Outputs      []output `json:"outputs"`
}

// tensors builds one input per feature column from CSV records, with the
// column's metadata datatype and typed JSON values.
func tensors(t testing.TB, d *apitest.Dataset, recs []int) []input {
	t.Helper()
	var out []input
	for _, i := range d.Pipeline.Schema.Features() {
		col := d.Pipeline.Schema.Columns[i]
		in := input{Name: col.Name, Shape: []int64{int64(len(recs))}}
		var data []any
		for _, r := range recs {
			text := d.Record(r)[col.Name]
			switch col.Type {
			case schema.Number, schema.Integer:
				in.Datatype = map[schema.Type]string{schema.Number: "FP64", schema.Integer: "INT64"}[col.Type]
				if text == "" {
					data = append(data, nil)
					continue
				}
				data = append(data, json.Number(text))
			case schema.Boolean:
				in.Datatype = "BOOL"
				data = append(data, strings.EqualFold(text, "yes") || strings.EqualFold(text, "true"))
			default:
				in.Datatype = "BYTES"
				if text == "" {
					data = append(data, nil)
					continue
				}
				data = append(data, text)
			}
		}
		in.Data = data
		out = append(out, in)
	}
	return out
}

func body(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// want predicts records with fit i through the artifact directly.
func want(t *testing.T, d *apitest.Dataset, fit int, recs []int) []artifact.Prediction {
	t.Helper()
	var out []artifact.Prediction
	for _, r := range recs {
		raw := map[string]schema.Raw{}
		for k, v := range d.Record(r) {
			raw[k] = schema.Raw{Text: v, Missing: v == ""}
		}
		p, fe := d.Fits[fit].Model.Predict(raw)
		if fe != nil {
			t.Fatalf("record %d: %v", r, fe)
		}
		out = append(out, p)
	}
	return out
}

// checkOutputs compares an answer's outputs with the direct predictions.
func checkOutputs(t *testing.T, a inferAnswer, d *apitest.Dataset, preds []artifact.Prediction) {
	t.Helper()
	n := len(preds)
	classes := d.Fits[0].Model.Classes()
	for _, o := range a.Outputs {
		switch o.Name {
		case "label":
			if o.Datatype != "BYTES" || !slices.Equal(o.Shape, []int{n}) || len(o.Data) != n {
				t.Fatalf("label: %+v", o)
			}
			for i, p := range preds {
				if o.Data[i] != p.Label {
					t.Errorf("label %d: got %v, want %s", i, o.Data[i], p.Label)
				}
			}
		case "probabilities":
			k := len(classes)
			if o.Datatype != "FP64" || !slices.Equal(o.Shape, []int{n, k}) || len(o.Data) != n*k {
				t.Fatalf("probabilities: %+v", o)
			}
			if got := o.Parameters["classes"]; got != body(t, classes) {
				t.Errorf("classes parameter: got %v, want %s", got, body(t, classes))
			}
			for i, p := range preds {
				for j, c := range classes {
					if got := o.Data[i*k+j].(float64); math.Abs(got-p.Probabilities[c]) > 1e-12 {
						t.Errorf("row %d P(%s): got %v, want %v", i, c, got, p.Probabilities[c])
					}
				}
			}
		case "value":
			if o.Datatype != "FP64" || !slices.Equal(o.Shape, []int{n}) || len(o.Data) != n {
				t.Fatalf("value: %+v", o)
			}
			for i, p := range preds {
				if got := o.Data[i].(float64); math.Abs(got-*p.Value) > 1e-9 {
					t.Errorf("row %d value: got %v, want %v", i, got, *p.Value)
				}
			}
		default:
			t.Errorf("unexpected output %q", o.Name)
		}
	}
}

func outputNames(a inferAnswer) []string {
	var out []string
	for _, o := range a.Outputs {
		out = append(out, o.Name)
	}
	return out
}

func TestInfer(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{MaxBatch: 50})
	recs := []int{0, 1, 2, 3, 4, 5}

	for _, name := range []string{"titanic", "iris", "tips"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := env.Data[name]
			req := map[string]any{"id": "req-" + name, "inputs": tensors(t, d, recs)}
			r := env.Do(t, "POST", "/v2/models/"+name+"/infer", "application/json", body(t, req))
			a := decode[inferAnswer](t, r, 200)
			if a.ModelName != name || a.ModelVersion != "1" || a.ID != "req-"+name {
				t.Errorf("answer head: %+v", a)
			}
			wantNames := []string{"label", "probabilities"}
			if name == "tips" {
				wantNames = []string{"value"}
			}
			if got := outputNames(a); !slices.Equal(got, wantNames) {
				t.Errorf("outputs %v, want %v", got, wantNames)
			}
			checkOutputs(t, a, d, want(t, d, 0, recs))
		})
	}

	t.Run("any registered version", func(t *testing.T) {
		t.Parallel()
		d := env.Data["titanic"]
		req := map[string]any{"inputs": tensors(t, d, recs)}
		r := env.Do(t, "POST", "/v2/models/titanic/versions/2/infer", "application/json", body(t, req))
		a := decode[inferAnswer](t, r, 200)
		if a.ModelVersion != "2" || a.ID != r.Header.Get("X-Request-Id") || a.ID == "" {
			t.Errorf("version %q id %q (X-Request-Id %q)", a.ModelVersion, a.ID, r.Header.Get("X-Request-Id"))
		}
		v1, v2 := want(t, d, 0, recs), want(t, d, 1, recs)
		if reflect.DeepEqual(v1, v2) {
			t.Fatal("versions 1 and 2 predict the same: the test cannot tell them apart")
		}
		checkOutputs(t, a, d, v2)
		// Production stays 1.
		r = env.Do(t, "POST", "/v2/models/titanic/versions/1/infer", "application/json", body(t, req))
		checkOutputs(t, decode[inferAnswer](t, r, 200), d, v1)
	})

	t.Run("nested data, shape [n, 1], requested output, missing nullable inputs", func(t *testing.T) {
		t.Parallel()
		d := env.Data["titanic"]
		req := `{"inputs": [
			{"name": "class", "shape": [2, 1], "datatype": "BYTES", "data": [["1"], ["3"]]},
			{"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["female", "M"]},
			{"name": "age", "shape": [2], "datatype": "FP64", "data": [22.5, null]}
		], "outputs": [{"name": "probabilities"}], "parameters": {"binary_data_output": false}}`
		a := decode[inferAnswer](t, env.Do(t, "POST", "/v2/models/titanic/infer", "application/json", req), 200)
		if got := outputNames(a); !slices.Equal(got, []string{"probabilities"}) {
			t.Fatalf("outputs %v", got)
		}
		m := d.Fits[0].Model
		var preds []artifact.Prediction
		for _, raw := range []map[string]schema.Raw{
			{"class": {Text: "1"}, "sex": {Text: "female"}, "age": {Text: "22.5"}},
			{"class": {Text: "3"}, "sex": {Text: "male"}},
		} {
			p, fe := m.Predict(raw)
			if fe != nil {
				t.Fatal(fe)
			}
			preds = append(preds, p)
		}
		checkOutputs(t, a, d, preds)
	})

	t.Run("integer categories and other numeric types", func(t *testing.T) {
		t.Parallel()
		req := `{"inputs": [
			{"name": "class", "shape": [1], "datatype": "INT32", "data": [2]},
			{"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]},
			{"name": "age", "shape": [1], "datatype": "INT64", "data": [40]}
		]}`
		a := decode[inferAnswer](t, env.Do(t, "POST", "/v2/models/titanic/infer", "application/json", req), 200)
		p, _ := env.Data["titanic"].Fits[0].Model.Predict(map[string]schema.Raw{"class": {Text: "2"}, "sex": {Text: "male"}, "age": {Text: "40"}})
		checkOutputs(t, a, env.Data["titanic"], []artifact.Prediction{p})
	})

	good := func(mut func(ins []input) []input) string {
		ins := tensors(t, env.Data["titanic"], []int{0, 1})
		return body(t, map[string]any{"inputs": mut(ins)})
	}
	same := func(ins []input) []input { return ins }
	errCases := []struct {
		name, path, body string
		header           string
		status           int
		want             []string
	}{
		{name: "unknown model", path: "/v2/models/nope/infer", body: good(same), status: 404, want: []string{`"nope"`}},
		{name: "unknown version", path: "/v2/models/titanic/versions/7/infer", body: good(same), status: 404, want: []string{"7"}},
		{name: "no model yet", path: "/v2/models/sensors/infer", body: `{"inputs": [{"name": "temp", "shape": [1], "datatype": "FP64", "data": [20]}]}`, status: 503, want: []string{"sensors"}},
		{name: "empty body", body: "", status: 400, want: []string{"empty"}},
		{name: "not JSON", body: `{"inputs": [`, status: 400, want: []string{"JSON"}},
		{name: "not an object", body: `[1, 2]`, status: 400, want: []string{"object"}},
		{name: "no inputs", body: `{"id": "x"}`, status: 400, want: []string{`"inputs"`}},
		{name: "id not a string", body: `{"id": 42, "inputs": []}`, status: 400, want: []string{"id"}},
		{name: "shape of strings", body: `{"inputs": [{"name": "sex", "shape": ["2"], "datatype": "BYTES", "data": ["male"]}]}`, status: 400, want: []string{"inputs.shape", "string", "whole number"}},
		{name: "huge shape", body: `{"inputs": [{"name": "sex", "shape": [1e30], "datatype": "BYTES", "data": ["male"]}]}`, status: 400, want: []string{"inputs.shape", "number 1e30"}},
		{name: "inputs not an array", body: `{"inputs": {"name": "sex"}}`, status: 400, want: []string{"inputs", "an array"}},
		{name: "parameters not an object", body: `{"inputs": [], "parameters": [1]}`, status: 400, want: []string{"parameters", "an object"}},
		{name: "missing input", body: good(func(ins []input) []input {
			return slices.DeleteFunc(ins, func(i input) bool { return i.Name == "sex" })
		}), status: 400, want: []string{`"sex"`, "missing", "BYTES"}},
		{name: "unknown input", body: good(func(ins []input) []input { return append(ins, input{"fare", []int64{2}, "FP64", []any{1, 2}}) }), status: 400, want: []string{`"fare"`, "class, sex, age, embarked"}},
		{name: "target as input", body: good(func(ins []input) []input { return append(ins, input{"survived", []int64{2}, "BYTES", []any{"0", "1"}}) }), status: 400, want: []string{`"survived"`, "target"}},
		{name: "input twice", body: good(func(ins []input) []input { return append(ins, ins[0]) }), status: 400, want: []string{`"class"`, "more than once"}},
		{name: "wrong datatype", body: good(func(ins []input) []input { ins[1].Datatype = "FP64"; return ins }), status: 400, want: []string{`"sex"`, "FP64", "BYTES"}},
		{name: "unknown datatype", body: good(func(ins []input) []input { ins[2].Datatype = "FLOAT"; return ins }), status: 400, want: []string{`"age"`, `"FLOAT"`}},
		{name: "lower-case datatype", body: good(func(ins []input) []input { ins[2].Datatype = "fp64"; return ins }), status: 400, want: []string{`"age"`, `"fp64"`}},
		{name: "shape and data disagree", body: good(func(ins []input) []input { ins[0].Shape = []int64{3}; return ins }), status: 400, want: []string{`"class"`, "3"}},
		{name: "rows differ", body: good(func(ins []input) []input { ins[1].Shape, ins[1].Data = []int64{1}, []any{"male"}; return ins }), status: 400, want: []string{`"sex"`, "rows"}},
		{name: "matrix shape", body: good(func(ins []input) []input { ins[2].Shape = []int64{1, 2}; return ins }), status: 400, want: []string{`"age"`, "[n]"}},
		{name: "no shape", body: good(func(ins []input) []input { ins[2].Shape = nil; return ins }), status: 400, want: []string{`"age"`, "shape"}},
		{name: "negative shape", body: good(func(ins []input) []input { ins[2].Shape = []int64{-2}; return ins }), status: 400, want: []string{`"age"`, "negative"}},
		{name: "ragged nesting", body: good(func(ins []input) []input {
			ins[2].Shape, ins[2].Data = []int64{2, 1}, []any{[]any{1}, []any{2, 3}}
			return ins
		}), status: 400, want: []string{`"age"`, "shape"}},
		{name: "data not an array", body: good(func(ins []input) []input { ins[2].Data = "22"; return ins }), status: 400, want: []string{`"age"`, "array"}},
		{name: "category out of values", body: good(func(ins []input) []input { ins[1].Data = []any{"male", "alien"}; return ins }), status: 400, want: []string{`"sex" element 1`, "male, female"}},
		{name: "number out of range", body: good(func(ins []input) []input { ins[2].Data = []any{200, 20}; return ins }), status: 400, want: []string{`"age" element 0`, "between 0 and 120"}},
		{name: "BYTES holding a number", body: good(func(ins []input) []input { ins[3].Data = []any{"S", 3}; return ins }), status: 400, want: []string{`"embarked" element 1`, "strings"}},
		{name: "FP64 holding a string", body: good(func(ins []input) []input { ins[2].Data = []any{"old", 3}; return ins }), status: 400, want: []string{`"age" element 0`, "numbers"}},
		{name: "INT8 out of range", body: good(func(ins []input) []input { ins[2].Datatype, ins[2].Data = "INT8", []any{300, 3}; return ins }), status: 400, want: []string{`"age" element 0`, "INT8"}},
		{name: "INT64 not whole", body: good(func(ins []input) []input { ins[2].Datatype, ins[2].Data = "INT64", []any{3.5, 3}; return ins }), status: 400, want: []string{`"age" element 0`, "whole"}},
		{name: "required value null", body: good(func(ins []input) []input { ins[1].Data = []any{nil, "male"}; return ins }), status: 400, want: []string{`"sex" element 0`, "required"}},
		{name: "unknown output", body: `{"inputs": [{"name": "class", "shape": [1], "datatype": "BYTES", "data": ["1"]}, {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]}], "outputs": [{"name": "value"}]}`, status: 400, want: []string{`"value"`, "label, probabilities"}},
		{name: "binary extension", header: "Inference-Header-Content-Length", body: good(same), status: 400, want: []string{"binary"}},
		{name: "batch over the limit", body: good(func(ins []input) []input {
			for i := range ins {
				ins[i].Shape = []int64{60}
				ins[i].Data = slices.Repeat(ins[i].Data.([]any)[:1], 60)
			}
			return ins
		}), status: 413, want: []string{"60", "50"}},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := cmpOr(tt.path, "/v2/models/titanic/infer")
			req := env.Request(t, "POST", path, "application/json", tt.body)
			if tt.header != "" {
				req.Header.Set(tt.header, "10")
			}
			oipError(t, env.Send(t, req), tt.status, tt.want...)
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sameInProcess sends an infer request with a fixed X-Request-Id (and
// header, if set, as Inference-Header-Content-Length) over the wire, checks
// that the net/http handler, in process, gives the same answer (status,
// Retry-After and body), and returns the wire's. On the fasthttp server (the
// test servers' default) the production infer route is a hot route, so
// this checks the two paths against each other.
func sameInProcess(t *testing.T, env *apitest.Env, path, body, header string) *apitest.Response {
	t.Helper()
	const id = "same-request-id"
	req := env.Request(t, "POST", path, "application/json", body)
	req.Header.Set("X-Request-Id", id)
	hr := httptest.NewRequest("POST", path, strings.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-Request-Id", id)
	if header != "" {
		req.Header.Set("Inference-Header-Content-Length", header)
		hr.Header.Set("Inference-Header-Content-Length", header)
	}
	r := env.Send(t, req)
	w := httptest.NewRecorder()
	env.Handler.ServeHTTP(w, hr)
	if w.Code != r.Status || w.Header().Get("Retry-After") != r.Header.Get("Retry-After") || !bytes.Equal(w.Body.Bytes(), r.Body) {
		t.Errorf("POST %s %q: over the wire %d (Retry-After %q) %s; on the net/http handler %d (Retry-After %q) %s",
			path, body, r.Status, r.Header.Get("Retry-After"), r.Body, w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	return r
}

// TestInferPathsAgree checks that the fasthttp server's infer route answers as
// the net/http handler does, for answers and for every kind of error.
func TestInferPathsAgree(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{MaxBatch: 2, MaxBody: 2048})
	d := env.Data["titanic"]
	one := body(t, map[string]any{"inputs": tensors(t, d, []int{0})})
	long := one[:len(one)-1] + strings.Repeat(" ", 2048) + "}" // over MaxBody
	// Each case also has its own status, so that both paths being wrong
	// alike fails too.
	cases := []struct {
		path, body, header string
		status             int
	}{
		{"/v2/models/titanic/infer", one, "", 200},
		{"/v2/models/titanic/infer", body(t, map[string]any{"id": "mine", "inputs": tensors(t, d, []int{1, 2}), "outputs": []any{map[string]any{"name": "label"}}}), "", 200},
		{"/v2/models/tips/infer", body(t, map[string]any{"inputs": tensors(t, env.Data["tips"], []int{0, 1})}), "", 200},
		{"/v2/models/titanic/infer", body(t, map[string]any{"inputs": tensors(t, d, []int{0, 1, 2})}), "", 413}, // over MaxBatch
		{"/v2/models/titanic/infer", one, "10", 400},
		{"/v2/models/nope/infer", one, "", 404},
		{"/v2/models/sensors/infer", `{"inputs": [{"name": "temp", "shape": [1], "datatype": "FP64", "data": [20]}]}`, "", 503},
		{"/v2/models/titanic/infer", `{"inputs": [{"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["alien"]}]}`, "", 400},
		{"/v2/models/titanic/infer", "", "", 400},
		{"/v2/models/titanic/infer", `{"inputs": [`, "", 400},
		{"/v2/models/titanic/infer", long, "", 413},
		{"/v2/models/titanic/versions/2/infer", one, "", 200},
		{"/v2/models/titanic/versions/1/infer", one, "", 200},
		{"/v2/models/titanic/versions/7/infer", one, "", 404},
		{"/v2/models/titanic/versions/0/infer", one, "", 404},
		{"/v2/models/titanic/versions/two/infer", one, "", 404},
		{"/v2/models/nope/versions/1/infer", one, "", 404},
		{"/v2/models/titanic/versions/2/infer", one, "10", 400},
		{"/v2/models/titanic/versions/2/infer", `{"inputs": [`, "", 400},
	}
	for _, c := range cases {
		if r := sameInProcess(t, env, c.path, c.body, c.header); r.Status != c.status {
			t.Errorf("POST %s (header %q): status %d, want %d: %s", c.path, c.header, r.Status, c.status, r.Body)
		}
	}
}

// FuzzInfer sends infer requests a fuzzer makes: whatever the body, the
// answer is a 200 with one output row per input row or a 4xx in the
// protocol's error form, never a 5xx, and the same over the wire as on the
// net/http handler in process. `go test` runs the seeds; search for
// more with
//
//	go test -run '^$' -fuzz FuzzInfer -fuzztime 2m ./internal/oip
func FuzzInfer(f *testing.F) {
	env := apitest.Start(f, apitest.Options{MaxBatch: 20})
	d := env.Data["titanic"]
	good := body(f, map[string]any{"id": "x", "inputs": tensors(f, d, []int{0, 1, 2})})
	for _, s := range []string{good, "", "null", "{}", `{"inputs": []}`, `{"inputs": [{"name": "class", "shape": [1], "datatype": "INT64", "data": [1]}]}`,
		`{"inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [1]}]}`,
		`{"inputs": [{"name": "sex", "shape": [-1], "datatype": "BYTES", "data": ["female"]}]}`,
		`{"inputs": [{"name": "class", "shape": [1, 1], "datatype": "FP32", "data": [[1]]}], "outputs": [{"name": "nope"}]}`,
		`{"inputs": [{"name": "class", "shape": [1], "datatype": "BOOL", "data": [true]}], "parameters": {"binary_data_output": true}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req string) {
		r := sameInProcess(t, env, "/v2/models/titanic/infer", req, "")
		if r.Status >= 500 {
			t.Fatalf("status %d for %q: %s", r.Status, req, r.Body)
		}
		if r.Status != 200 {
			oipError(t, r, r.Status)
			return
		}
		var a struct {
			Outputs []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal(r.Body, &a); err != nil || len(a.Outputs) == 0 {
			t.Fatalf("200 for %q with a body that is not an infer answer (%v): %s", req, err, r.Body)
		}
		for _, o := range a.Outputs {
			if len(o.Shape) == 0 || o.Shape[0] != a.Outputs[0].Shape[0] {
				t.Errorf("output %s has shape %v, the first %v: every output has one row per input row", o.Name, o.Shape, a.Outputs[0].Shape)
			}
		}
	})
}
