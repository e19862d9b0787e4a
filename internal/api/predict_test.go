package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/httpx"
)

// prototype is the answer of GET /.
type prototype struct {
	Data struct {
		Result float64 `json:"result"`
	} `json:"data"`
	Message struct {
		StatusCode    int             `json:"status_code"`
		StatusMessage json.RawMessage `json:"status_message"`
		Args          map[string]any  `json:"args"`
	} `json:"message"`
}

func decodePrototype(t *testing.T, r *response, status int) prototype {
	t.Helper()
	if r.status != status {
		t.Fatalf("status: got %d, want %d; body %s", r.status, status, r.body)
	}
	p := decodeStrict[prototype](t, r.body, "data", "message")
	var raw struct{ Data, Message json.RawMessage }
	json.Unmarshal(r.body, &raw)
	hasKeys(t, raw.Data, []string{"result"}, nil)
	hasKeys(t, raw.Message, []string{"status_code", "status_message", "args"}, nil)
	if p.Message.StatusCode != status {
		t.Errorf("message.status_code: got %d, want %d", p.Message.StatusCode, status)
	}
	return p
}

func TestPrototype(t *testing.T) {
	t.Parallel()

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		if got := b.fit.fits[0].Model.Classes(); !slices.Equal(got, []string{"0", "1"}) {
			t.Fatalf("classes: got %v, want [0 1]", got)
		}
		cases := []struct {
			query string
			row   []any // class, female, age (-1: missing), embarked
			args  map[string]any
		}{
			{"class=1&sex=F&age=22&embarked=S", []any{1, true, 22.0, "S"},
				map[string]any{"class": "1", "sex": "F", "age": "22", "embarked": "S"}},
			{"class=3&sex=male&age=30.5&embarked=q", []any{3, false, 30.5, "Q"},
				map[string]any{"class": "3", "sex": "male", "age": "30.5", "embarked": "q"}},
			{"sex=female&class=2.0", []any{2, true, -1.0, ""},
				map[string]any{"class": "2.0", "sex": "female", "age": nil, "embarked": nil}},
			{"class=1&sex=f&age=NA&embarked=", []any{1, true, -1.0, ""},
				map[string]any{"class": "1", "sex": "f", "age": "NA", "embarked": ""}},
		}
		for _, tc := range cases {
			p := decodePrototype(t, b.get(t, "/?"+tc.query), http.StatusOK)
			if string(p.Message.StatusMessage) != `"OK"` {
				t.Errorf("%s: status_message: got %s, want \"OK\"", tc.query, p.Message.StatusMessage)
			}
			if !reflect.DeepEqual(p.Message.Args, tc.args) {
				t.Errorf("%s: args: got %v, want %v", tc.query, p.Message.Args, tc.args)
			}
			row := titanicRow(tc.row[0].(int), tc.row[1].(bool), tc.row[2].(float64), tc.row[3].(string))
			if want := b.fit.want(0, row)[1]; p.Data.Result != want {
				t.Errorf("%s: result: got %v, want P(survived=1) %v", tc.query, p.Data.Result, want)
			}
		}

		// The model learned what the data says.
		rich := decodePrototype(t, b.get(t, "/?class=1&sex=F&age=22&embarked=S"), http.StatusOK).Data.Result
		poor := decodePrototype(t, b.get(t, "/?class=3&sex=M&age=22&embarked=S"), http.StatusOK).Data.Result
		if !(rich > poor) || rich <= 0.5 || poor >= 0.5 {
			t.Errorf("P(survived): female 1st class %v, male 3rd class %v; want the first above 0.5 and the second below", rich, poor)
		}
	})

	t.Run("bad_input", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		cases := []struct {
			name, query string
			fields      map[string]string
		}{
			{"bad_values", "class=4&sex=X&age=abc&embarked=S", map[string]string{
				"class": "must be one of 1, 2, 3",
				"sex":   "must be one of male, female",
				"age":   "must be a number between 0 and 120",
			}},
			{"out_of_range", "class=1&sex=F&age=-3", map[string]string{"age": "must be a number between 0 and 120"}},
			{"missing_required", "age=22", map[string]string{
				"class": "is required (must be one of 1, 2, 3)",
				"sex":   "is required (must be one of male, female)",
			}},
			{"empty_query", "", map[string]string{
				"class": "is required (must be one of 1, 2, 3)",
				"sex":   "is required (must be one of male, female)",
			}},
			{"unknown_and_target", "class=1&sex=F&fare=7.25&survived=1", map[string]string{
				"fare":     "is not a feature of this model",
				"survived": "is the target; leave it out of a prediction request",
			}},
			{"repeated", "class=1&class=2&sex=F", map[string]string{"class": "is given more than once"}},
			{"misspelt", "clas=1&sex=F&agee=3", map[string]string{
				"clas":  "is not a feature of this model; did you mean class?",
				"agee":  "is not a feature of this model; did you mean age?",
				"class": "is required (must be one of 1, 2, 3)",
			}},
			{"everything_at_once", "class=9&sex=&age=200&embarked=X&cabin=C85", map[string]string{
				"class":    "must be one of 1, 2, 3",
				"sex":      "is required (must be one of male, female)",
				"age":      "must be a number between 0 and 120",
				"embarked": "must be one of C, S, Q",
				"cabin":    "is not a feature of this model",
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := decodePrototype(t, b.get(t, "/?"+tc.query), http.StatusBadRequest)
				var got map[string]string
				if err := json.Unmarshal(p.Message.StatusMessage, &got); err != nil {
					t.Fatalf("status_message %s: %v", p.Message.StatusMessage, err)
				}
				if !reflect.DeepEqual(got, tc.fields) {
					t.Errorf("status_message: got %v, want %v", got, tc.fields)
				}
				if p.Data.Result != 0 {
					t.Errorf("result: got %v, want 0 on bad input", p.Data.Result)
				}
			})
		}
	})

	t.Run("no_model", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1})
		p := decodePrototype(t, b.get(t, "/?class=1&sex=F"), http.StatusServiceUnavailable)
		var msg string
		if err := json.Unmarshal(p.Message.StatusMessage, &msg); err != nil {
			t.Fatalf("status_message %s: %v", p.Message.StatusMessage, err)
		}
		if !strings.Contains(msg, "no production model") || !strings.Contains(msg, "mlserve train titanic") {
			t.Errorf("status_message %q does not say how to get a model", msg)
		}
	})

	t.Run("only_root", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		if r := b.get(t, "/predict?class=1&sex=F"); r.status != http.StatusNotFound {
			t.Errorf("GET /predict: status %d, want 404", r.status)
		}
	})
}

// checkPredictions checks a predict answer against fit i's own outputs.
func checkPredictions(t *testing.T, b *testBundle, r *response, version, fit int, rows ...[]any) predictResponse {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", r.status, r.body)
	}
	p := decodeStrict[predictResponse](t, r.body, "model", "version", "predictions")
	if p.Model != "titanic" || p.Version != version {
		t.Errorf("model/version: got %s/%d, want titanic/%d", p.Model, p.Version, version)
	}
	if len(p.Predictions) != len(rows) {
		t.Fatalf("predictions: got %d, want %d: %s", len(p.Predictions), len(rows), r.body)
	}
	var raw struct {
		Predictions []map[string]json.RawMessage `json:"predictions"`
	}
	json.Unmarshal(r.body, &raw)
	for i, spec := range rows {
		pr := p.Predictions[i]
		if keys := slices.Sorted(maps.Keys(raw.Predictions[i])); !slices.Equal(keys, []string{"label", "probabilities"}) {
			t.Errorf("prediction %d: keys %v, want label and probabilities", i, keys)
		}
		want := b.fit.want(fit, titanicRow(spec[0].(int), spec[1].(bool), spec[2].(float64), spec[3].(string)))
		wantProbs := map[string]float64{"0": want[0], "1": want[1]}
		if !reflect.DeepEqual(pr.Probabilities, wantProbs) {
			t.Errorf("prediction %d: probabilities %v, want %v", i, pr.Probabilities, wantProbs)
		}
		if sum := pr.Probabilities["0"] + pr.Probabilities["1"]; math.Abs(sum-1) > 1e-9 {
			t.Errorf("prediction %d: probabilities sum to %v", i, sum)
		}
		wantLabel := "0"
		if want[1] > want[0] {
			wantLabel = "1"
		}
		if pr.Label != wantLabel {
			t.Errorf("prediction %d: label %q, want %q", i, pr.Label, wantLabel)
		}
	}
	return p
}

func TestPredict(t *testing.T) {
	t.Parallel()
	const path = "/v1/models/titanic/predict"

	t.Run("get", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		checkPredictions(t, b, b.get(t, path+"?class=1&sex=F&age=22&embarked=S"), 1, 0, []any{1, true, 22.0, "S"})
		checkPredictions(t, b, b.get(t, path+"?class=3&sex=male"), 1, 0, []any{3, false, -1.0, ""})
	})

	t.Run("post_one", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		checkPredictions(t, b, b.post(t, path, `{"class": 1, "sex": "F", "age": 22, "embarked": "S"}`), 1, 0, []any{1, true, 22.0, "S"})
		checkPredictions(t, b, b.post(t, path, `{"class": "2", "sex": "male", "age": null}`), 1, 0, []any{2, false, -1.0, ""})
		checkPredictions(t, b, b.post(t, path, `{"instances": [{"class": 3, "sex": "female", "age": 4.5, "embarked": "C"}]}`), 1, 0, []any{3, true, 4.5, "C"})
	})

	t.Run("post_batch", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		body := `{"instances": [
			{"class": 1, "sex": "F", "age": 22, "embarked": "S"},
			{"class": 3, "sex": "M", "age": 40, "embarked": "Q"},
			{"class": 2, "sex": "female"},
			{"class": 1, "sex": "male", "age": 0.5, "embarked": "C"}
		]}`
		checkPredictions(t, b, b.post(t, path, body), 1, 0,
			[]any{1, true, 22.0, "S"}, []any{3, false, 40.0, "Q"}, []any{2, true, -1.0, ""}, []any{1, false, 0.5, "C"})
	})

	t.Run("bad_instances", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		cases := []struct {
			name, body string
			fields     map[string]string
		}{
			{"one_bad_of_three", `{"instances": [
				{"class": 1, "sex": "F"},
				{"class": 1, "sex": "F", "age": 130},
				{"class": 2, "sex": "M"}]}`,
				map[string]string{"instances[1].age": "must be a number between 0 and 120"}},
			{"several", `{"instances": [
				{"class": 7, "sex": "F"},
				{"sex": "F", "fare": 3},
				{"class": 2, "sex": "M", "survived": 1},
				{"class": 2, "sex": ["M"]}]}`,
				map[string]string{
					"instances[0].class":    "must be one of 1, 2, 3",
					"instances[1].class":    "is required (must be one of 1, 2, 3)",
					"instances[1].fare":     "is not a feature of this model",
					"instances[2].survived": "is the target; leave it out of a prediction request",
					"instances[3].sex":      "must be a single value (string, number, boolean or null), not an object or array",
				}},
			{"single_object", `{"class": 0, "sex": "F", "age": "old", "embarked": 1}`,
				map[string]string{
					"class":    "must be one of 1, 2, 3",
					"age":      "must be a number between 0 and 120",
					"embarked": "must be one of C, S, Q",
				}},
			{"not_an_object", `{"instances": [{"class": 1, "sex": "F"}, 5]}`,
				map[string]string{"instances[1]": "must be an object of column: value"}},
			{"null_body", `null`, map[string]string{
				"class": "is required (must be one of 1, 2, 3)",
				"sex":   "is required (must be one of male, female)",
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := errAnswer(t, b.post(t, path, tc.body), http.StatusBadRequest, "invalid_input")
				if !reflect.DeepEqual(e.Fields, tc.fields) {
					t.Errorf("fields: got %v, want %v", e.Fields, tc.fields)
				}
				for k := range tc.fields {
					if !strings.Contains(e.Message, k) {
						t.Errorf("message %q does not name %s", e.Message, k)
					}
				}
			})
		}
		e := errAnswer(t, b.get(t, path+"?class=5&sex=F&age=x&foo=1"), http.StatusBadRequest, "invalid_input")
		want := map[string]string{"class": "must be one of 1, 2, 3", "age": "must be a number between 0 and 120", "foo": "is not a feature of this model"}
		if !reflect.DeepEqual(e.Fields, want) {
			t.Errorf("GET fields: got %v, want %v", e.Fields, want)
		}
	})

	t.Run("garbage_json", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for _, body := range []string{
			"", " ", "hello", `{"class": 1`, `{"class": 1,}`, `[{"class": 1, "sex": "F"}]`, `42`, `"x"`, `true`,
			`{"class": 1, "sex": "F"} {"class": 2}`, `{"instances": {"class": 1}}`, `{"instances": []}`,
			`{"instances": "all"}`, `{"instances": [{"class": 1, "sex": "F"}], "parameters": {}}`, "\xff\xfe{",
		} {
			r := b.post(t, path, body)
			e := errAnswer(t, r, http.StatusBadRequest, "bad_request")
			if len(e.Fields) != 0 {
				t.Errorf("%q: fields %v, want none", body, e.Fields)
			}
		}
	})

	t.Run("limits", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, promote: true, maxBody: 1024, maxBatch: 3})
		inst := `{"class": 1, "sex": "F", "age": 22, "embarked": "S"}`
		batch := func(n int) string {
			return `{"instances": [` + strings.TrimSuffix(strings.Repeat(inst+",", n), ",") + `]}`
		}
		if len(batch(3)) > 1024 {
			t.Fatal("test batch too large")
		}
		checkPredictions(t, b, b.post(t, path, batch(3)), 1, 0, []any{1, true, 22.0, "S"}, []any{1, true, 22.0, "S"}, []any{1, true, 22.0, "S"})
		e := errAnswer(t, b.post(t, path, batch(4)), http.StatusRequestEntityTooLarge, "batch_too_large")
		if !strings.Contains(e.Message, "4 instances") || !strings.Contains(e.Message, "limit of 3") {
			t.Errorf("message %q does not give the count and the limit", e.Message)
		}
		e = errAnswer(t, b.post(t, path, batch(40)), http.StatusRequestEntityTooLarge, "payload_too_large")
		if !strings.Contains(e.Message, "1024") {
			t.Errorf("message %q does not give the limit", e.Message)
		}
		errAnswer(t, b.post(t, path, `{"class": 1, "sex": "`+strings.Repeat("F", 2000)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
	})

	t.Run("unknown_model", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		for _, name := range []string{"titanik", "Titanic", "x%20y"} {
			e := errAnswer(t, b.get(t, "/v1/models/"+name+"/predict?class=1&sex=F"), http.StatusNotFound, "model_not_found")
			if !strings.Contains(e.Message, "titanic") || !strings.Contains(e.Message, "sensors") {
				t.Errorf("message %q does not list the models", e.Message)
			}
			errAnswer(t, b.post(t, "/v1/models/"+name+"/predict", `{"class": 1, "sex": "F"}`), http.StatusNotFound, "model_not_found")
		}
	})

	t.Run("no_model", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1})
		for _, r := range []*response{
			b.get(t, path+"?class=1&sex=F"),
			b.post(t, path, `{"class": 1, "sex": "F"}`),
			b.post(t, "/v1/models/sensors/predict", `{"temp": 1}`),
		} {
			e := errAnswer(t, r, http.StatusServiceUnavailable, "no_model")
			for _, s := range []string{"no production model", "POST /v1/datasets/", "mlserve train"} {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q lacks %q", e.Message, s)
				}
			}
			if got, want := r.header.Get("Retry-After"), strconv.Itoa(httpx.RetryAfter); got != want {
				t.Errorf("Retry-After: got %q, want %s", got, want)
			}
		}
	})
}

// TestGarbage sends random query strings, bodies and path values to every
// route: never a 5xx, always JSON.
func TestGarbage(t *testing.T) {
	t.Parallel()
	_, b := setupWith(t, setupOpts{versions: 2, promote: true, maxBody: 2048, maxBatch: 5})
	rng := rand.New(rand.NewPCG(3, 4))
	keys := []string{"class", "sex", "age", "embarked", "survived", "fare", "", "instances", "a b", "é", "%", "%zz", "class[]", ";"}
	vals := []string{"1", "2", "3", "0", "F", "m", "female", "22", "22.0", "-1", "1e999", "NaN", "NA", "", "%00", "%ff", "+", "null", "[]", "{}", `"`, "\t", "🙂"}
	rawEsc := strings.NewReplacer(" ", "%20", "\t", "%09")
	query := func() string {
		var parts []string
		for range rng.IntN(7) {
			k, v := keys[rng.IntN(len(keys))], vals[rng.IntN(len(vals))]
			switch rng.IntN(4) {
			case 0:
				parts = append(parts, rawEsc.Replace(k))
			case 1:
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
			default: // raw, bad escapes and all; only what HTTP cannot carry is escaped
				parts = append(parts, rawEsc.Replace(k+"="+v))
			}
		}
		return strings.Join(parts, "&")
	}
	pieces := []string{"{", "}", "[", "]", ",", ":", `"instances"`, `"class"`, `"sex"`, `"age"`, `"F"`, "1", "3", "22.5", "-1", "null", "true", "1e400", `"\u0000"`, `"\ud800"`, " ", "\n", "\xff"}
	body := func() string {
		var sb strings.Builder
		for range rng.IntN(30) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	segs := []string{"titanic", "sensors", "x", "1", "2", "0", "-1", "abc", "99999999999999999999", "%2F", "%20", "1.5", "1e3"}
	seg := func() string { return segs[rng.IntN(len(segs))] }

	check := func(method, target string, r *response) {
		t.Helper()
		if r.status >= 500 {
			t.Errorf("%s %s: status %d: %s", method, target, r.status, r.body)
		}
		// A path no route matches gets ServeMux's own text 404 (the app
		// mounts no JSON fallback); every route's answer is JSON.
		if !json.Valid(r.body) && !(r.status == http.StatusNotFound && string(r.body) == "404 page not found\n") {
			t.Errorf("%s %s: answer is not JSON: %q", method, target, r.body)
		}
	}
	for range 150 {
		for _, p := range []string{"/", "/v1/models/titanic/predict", "/v1/models/sensors/predict"} {
			target := p + "?" + query()
			req, err := http.NewRequest(http.MethodGet, b.url+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.RawQuery = strings.TrimPrefix(target, p+"?")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r := readResponse(t, res)
			if p == "/v1/models/sensors/predict" {
				errAnswer(t, r, http.StatusServiceUnavailable, "no_model")
				continue
			}
			check("GET", target, r)
		}
		bd := body()
		check("POST", fmt.Sprintf("predict %q", bd), b.post(t, "/v1/models/titanic/predict", bd))
	}
	for range 40 {
		for _, p := range []string{
			"/v1/models/" + seg() + "/versions/" + seg() + "/promote",
			"/v1/models/" + seg() + "/rollback",
			"/v1/runs/" + seg(),
			"/v1/models/" + seg(),
			"/v1/models/" + seg() + "/versions",
			"/v1/models/" + seg() + "/promotions",
		} {
			method := http.MethodGet
			if strings.HasSuffix(p, "/promote") || strings.HasSuffix(p, "/rollback") {
				method = http.MethodPost
			}
			check(method, p, b.do(t, method, p, "application/json", body()))
		}
	}
}
