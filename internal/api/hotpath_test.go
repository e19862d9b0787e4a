package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mlserve/mlserve/internal/api"
	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/didyoumean"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/served"
)

// The hot path decodes and encodes by hand. These tests hold it to the
// encoding/json implementation it replaced: the reference functions below
// are that implementation, and every answer must match it byte for byte
// (200s) or in status, code and fields (errors).

// refAnswer is what the reference implementation answers.
type refAnswer struct {
	status int
	code   string
	fields map[string]string
	body   []byte // the whole answer of a 200
}

// refCoerce is the coercion of the reference: a map of raw values.
func refCoerce(m *artifact.Model, raw map[string]schema.Raw, row schema.Row) schema.FieldErrors {
	var fe schema.FieldErrors
	add := func(k, msg string) {
		if fe == nil {
			fe = schema.FieldErrors{}
		}
		fe[k] = msg
	}
	c := m.Schema()
	t := c.Index(m.Artifact.Schema.Target)
	for i := 0; i < c.Len(); i++ {
		col := c.Column(i)
		if i == t || col.Ignore {
			row[i] = schema.Value{Missing: true}
			continue
		}
		r, ok := raw[col.Name]
		v, msg := c.Coerce(i, r.Text, !ok || r.Missing)
		if msg != "" {
			add(col.Name, msg)
			continue
		}
		row[i] = v
	}
	for k := range raw {
		switch i := c.Index(k); {
		case i < 0:
			var features []string
			for j := 0; j < c.Len(); j++ {
				if j != t && !c.Column(j).Ignore {
					features = append(features, c.Column(j).Name)
				}
			}
			add(k, "is not a feature of this model"+didyoumean.Suffix(k, features))
		case i == t:
			add(k, "is the target; leave it out of a prediction request")
		}
	}
	return fe
}

func refOK(sv *served.Served, outs [][]float64) refAnswer {
	preds := make([]artifact.Prediction, len(outs))
	for i, o := range outs {
		preds[i] = sv.Model.Format(o)
	}
	data, err := json.Marshal(&api.PredictResponse{Model: sv.Pipeline, Version: sv.Version.Version, Predictions: preds})
	if err != nil {
		panic(err)
	}
	return refAnswer{status: 200, body: append(data, '\n')}
}

func refPredict(m *artifact.Model, raw map[string]schema.Raw) ([]float64, schema.FieldErrors) {
	row := make(schema.Row, m.Schema().Len())
	if fe := refCoerce(m, raw, row); fe != nil {
		return nil, fe
	}
	out := make([]float64, m.Outputs())
	m.PredictRow(row, out)
	return out, nil
}

// refGet is the reference GET /v1/models/{name}/predict.
func refGet(sv *served.Served, rawQuery string) refAnswer {
	q, _ := url.ParseQuery(rawQuery)
	raw := map[string]schema.Raw{}
	fe := schema.FieldErrors{}
	for k, vs := range q {
		if len(vs) > 1 {
			fe[k] = "is given more than once"
			continue
		}
		raw[k] = schema.Raw{Text: vs[0]}
	}
	if len(fe) > 0 {
		return refAnswer{status: 400, code: "invalid_input", fields: fe}
	}
	out, fe := refPredict(sv.Model, raw)
	if fe != nil {
		return refAnswer{status: 400, code: "invalid_input", fields: fe}
	}
	return refOK(sv, [][]float64{out})
}

// refPrototype is the reference GET /.
func refPrototype(sv *served.Served, features []string, rawQuery string) refAnswer {
	q, _ := url.ParseQuery(rawQuery)
	args := map[string]any{}
	for _, name := range features {
		if vs, ok := q[name]; ok {
			args[name] = vs[0]
		} else {
			args[name] = nil
		}
	}
	for k, vs := range q {
		if _, ok := args[k]; !ok {
			args[k] = vs[0]
		}
	}
	write := func(status int, msg any, result float64) refAnswer {
		data, err := json.Marshal(map[string]any{
			"data":    map[string]any{"result": result},
			"message": map[string]any{"status_code": status, "status_message": msg, "args": args},
		})
		if err != nil {
			panic(err)
		}
		return refAnswer{status: status, body: append(data, '\n')}
	}
	a := refGet(sv, rawQuery)
	if a.status != 200 {
		return write(400, a.fields, 0)
	}
	out, _ := refPredict(sv.Model, func() map[string]schema.Raw {
		raw := map[string]schema.Raw{}
		for k, vs := range q {
			raw[k] = schema.Raw{Text: vs[0]}
		}
		return raw
	}())
	return write(200, "OK", sv.Model.PositiveProbability(out))
}

// refPost is the reference POST /v1/models/{name}/predict.
func refPost(sv *served.Served, body string, maxBatch int) refAnswer {
	bad := refAnswer{status: 400, code: "bad_request"}
	b := bytes.Trim([]byte(body), " \t\r\n") // JSON's whitespace only: "null\f" is not JSON
	if len(b) == 0 {
		return bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return bad
	}
	if dec.More() {
		return bad
	}
	var insts []map[string]any
	if inst, ok := top["instances"]; !ok {
		insts = []map[string]any{top}
	} else {
		list, ok := inst.([]any)
		if !ok || len(list) == 0 {
			return bad
		}
		for i, it := range list {
			obj, ok := it.(map[string]any)
			if !ok {
				name := fmt.Sprintf("instances[%d]", i)
				return refAnswer{status: 400, code: "invalid_input", fields: map[string]string{name: "must be an object of column: value"}}
			}
			insts = append(insts, obj)
		}
		if len(top) > 1 {
			return bad
		}
	}
	if len(insts) > maxBatch {
		return refAnswer{status: 413, code: "batch_too_large"}
	}
	all := schema.FieldErrors{}
	var outs [][]float64
	for i, inst := range insts {
		raw, fe := schema.RawFromJSON(inst)
		var out []float64
		if fe == nil {
			out, fe = refPredict(sv.Model, raw)
		}
		for k, msg := range fe {
			if len(insts) == 1 {
				all[k] = msg
			} else {
				all[fmt.Sprintf("instances[%d].%s", i, k)] = msg
			}
		}
		outs = append(outs, out)
	}
	if len(all) > 0 {
		return refAnswer{status: 400, code: "invalid_input", fields: all}
	}
	return refOK(sv, outs)
}

// checkAgainst compares an answer with the reference's.
func checkAgainst(t *testing.T, what string, got *response, want refAnswer) {
	t.Helper()
	if got.status != want.status {
		t.Errorf("%s: status %d, reference %d; body %s", what, got.status, want.status, got.body)
		return
	}
	if want.body != nil {
		if !bytes.Equal(got.body, want.body) {
			t.Errorf("%s: answer differs from encoding/json's\n got %s\nwant %s", what, got.body, want.body)
		}
		return
	}
	var env struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(got.body, &env); err != nil {
		t.Errorf("%s: %v: %s", what, err, got.body)
		return
	}
	// The reference wrote its fields with encoding/json too: names that
	// are not valid UTF-8 come out with U+FFFD in them.
	var wantFields map[string]string
	if b, err := json.Marshal(want.fields); err != nil || json.Unmarshal(b, &wantFields) != nil {
		t.Fatalf("%s: reference fields %v do not round-trip through JSON", what, want.fields)
	}
	if env.Error.Code != want.code || !reflect.DeepEqual(env.Error.Fields, wantFields) {
		t.Errorf("%s: got %s %q, reference %s %q", what, env.Error.Code, env.Error.Fields, want.code, wantFields)
	}
}

var (
	hotKeys = []string{"class", "sex", "age", "embarked", "survived", "fare", "", "instances", "a b", "é", "%", "%zz", "class[]", ";", "<b>", "\u2028"}
	hotVals = []string{"1", "2", "3", "0", "F", "m", "female", "MALE", "s", "22", "22.0", "-1", "1e999", "NaN", "NA", "", "%00", "%ff", "+", "null",
		"[]", "{}", `"`, "\t", "🙂", " 3 ", "2.0", "0x1", "1_0", "\xff", "<&>"}
)

func randomQuery(rng *rand.Rand) string {
	var parts []string
	for range rng.IntN(8) {
		k, v := hotKeys[rng.IntN(len(hotKeys))], hotVals[rng.IntN(len(hotVals))]
		switch rng.IntN(5) {
		case 0:
			parts = append(parts, url.QueryEscape(k))
		case 1, 2:
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		default:
			parts = append(parts, strings.NewReplacer(" ", "%20", "\t", "%09", "#", "%23").Replace(k+"="+v))
		}
	}
	return strings.Join(parts, "&")
}

func randomJSONValue(rng *rand.Rand) string {
	switch rng.IntN(12) {
	case 0:
		return "null"
	case 1:
		return "true"
	case 2:
		return []string{`{"a": 1}`, `[1, 2]`, `[]`, `{}`}[rng.IntN(4)]
	case 3, 4, 5:
		v, _ := json.Marshal(hotVals[rng.IntN(len(hotVals))])
		return string(v)
	case 6:
		return []string{`"\u0046"`, `"fe\u006dale"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\/1"`, `"a\"b"`, `"\\"`}[rng.IntN(8)]
	}
	return []string{"1", "2", "3", "0", "-0", "22.5", "1e2", "1E+2", "2.0", "-1", "1e400", "120", "120.0000001"}[rng.IntN(13)]
}

func randomInstance(rng *rand.Rand) string {
	var parts []string
	for range rng.IntN(6) {
		k, _ := json.Marshal(hotKeys[rng.IntN(len(hotKeys))])
		if rng.IntN(3) > 0 {
			k, _ = json.Marshal([]string{"class", "sex", "age", "embarked"}[rng.IntN(4)])
		}
		parts = append(parts, string(k)+": "+randomJSONValue(rng))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func randomBody(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		return randomInstance(rng)
	case 1: // garbage made of JSON pieces
		pieces := []string{"{", "}", "[", "]", ",", ":", `"instances"`, `"class"`, `"sex"`, "1", "null", "true", `"F"`, " ", "\xff", `"\ud800"`}
		var sb strings.Builder
		for range rng.IntN(20) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	var insts []string
	for range 1 + rng.IntN(5) {
		if rng.IntN(15) == 0 {
			insts = append(insts, randomJSONValue(rng))
			continue
		}
		insts = append(insts, randomInstance(rng))
	}
	body := `{"instances": [` + strings.Join(insts, ", ") + "]"
	if rng.IntN(10) == 0 {
		body += `, "parameters": {}`
	}
	body += "}"
	if rng.IntN(15) == 0 {
		body += " x"
	}
	return body
}

// validBatch is n valid instances with varied values.
func validBatch(rng *rand.Rand, n int) string {
	insts := make([]string, n)
	for i := range insts {
		age := "null"
		if rng.IntN(5) > 0 {
			age = fmt.Sprint(rng.Float64() * 90)
		}
		insts[i] = fmt.Sprintf(`{"class": %d, "sex": %q, "age": %s, "embarked": %q}`,
			1+rng.IntN(3), []string{"male", "F", "female", "M"}[rng.IntN(4)], age, []string{"C", "S", "q", ""}[rng.IntN(4)])
	}
	return `{"instances": [` + strings.Join(insts, ",") + "]}"
}

func TestHotPathMatchesReference(t *testing.T) {
	t.Parallel()
	const maxBatch = 1500
	_, b := setupWith(t, setupOpts{versions: 2, promote: true, maxBatch: maxBatch})
	sv := b.models.Get("titanic")
	features := []string{"class", "sex", "age", "embarked"}
	rng := rand.New(rand.NewPCG(11, 12))
	const path = "/v1/models/titanic/predict"
	queries := []string{"", "class=1&sex=male&age=22&embarked=S", "class=1&class=1&sex=F", "sex=F&class=2;x=1", "class=1&sex=F&age=%zz",
		"class=1&sex=F&age=1e-7", "class=3&sex=m&&age=&embarked=Q", "=&=1&class=2&sex=f"}
	for range 400 {
		queries = append(queries, randomQuery(rng))
	}
	for _, q := range queries {
		checkQuery(t, b, sv, features, q)
	}
	bodies := []string{"null", "{}", `{"instances": [{}]}`, `{"instances": [{"class": 1, "sex": "F"}], "instances": 5}`,
		`{"instances": 5, "instances": [{"class": 1, "sex": "F"}]}`, `{"class": 1, "sex": "F", "sex": {"x": 1}}`,
		`{"class": 1, "sex": {"x": 1}, "sex": "F"}`, `{"fare": [1], "fare": 1, "class": 1, "sex": "M"}`, `{"instances": [{"class": 1, "sex": "F"}]} ]`,
		`{"instances": [{"class": 1, "sex": "F"}, null]}`, `{"class": 1, "sex": "F\u00e9"}`, "{\"class\": 1, \"sex\": \"F\xff\"}",
		`{"class": 01, "sex": "F"}`, `{"class": 1., "sex": "F"}`, `{"class": -, "sex": "F"}`, `{"class": 1, "sex": "F",}`, `[]`, `nul`,
		validBatch(rng, 1000), validBatch(rng, 257), validBatch(rng, maxBatch+1)}
	for range 400 {
		bodies = append(bodies, randomBody(rng))
	}
	for _, body := range bodies {
		checkAgainst(t, "POST "+body, b.post(t, path, body), refPost(sv, body, maxBatch))
	}
}

func (b *testBundle) send(t *testing.T, req *http.Request) *response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, res)
}

// FuzzHotPath holds the hand-written decoders to the reference on inputs a
// fuzzer makes: a POST body, and a query sent to GET predict and to the
// prototype's route. `go test` runs the seeds; search for more with
//
//	go test -run '^$' -fuzz FuzzHotPath -fuzztime 2m ./internal/api
func FuzzHotPath(f *testing.F) {
	const maxBatch = 40
	_, b := setupWith(f, setupOpts{versions: 2, promote: true, maxBatch: maxBatch})
	sv := b.models.Get("titanic")
	features := []string{"class", "sex", "age", "embarked"}
	rng := rand.New(rand.NewPCG(5, 6))
	seeds := []string{"null", "{}", `{"instances": [{}]}`, `{"class": 1, "sex": "F", "age": 22, "embarked": "S"}`,
		`{"instances": [{"class": 1, "sex": "F"}, null]}`, `{"class": 1e400, "sex": "F"}`, `{"class": "1", "sex": true}`,
		`{"instances": [{"class": 1, "sex": "F", "age": -0.0, "embarked": "\u0053"}]}`, "{\"sex\": \"F\xff\"}",
		validBatch(rng, 3), validBatch(rng, maxBatch+1)}
	queries := []string{"", "class=1&sex=male&age=22&embarked=S", "class=1&class=1", "age=%zz&sex=F", "sex=F;x=1", "class=%31&sex=%46"}
	for i, s := range seeds {
		f.Add(s, queries[i%len(queries)])
	}
	f.Fuzz(func(t *testing.T, body, query string) {
		const path = "/v1/models/titanic/predict"
		checkAgainst(t, "POST "+body, b.post(t, path, body), refPost(sv, body, maxBatch))
		for i := 0; i < len(query); i++ {
			if c := query[i]; c <= ' ' || c >= 0x7f || c == '#' {
				return // not a query a client can send as is
			}
		}
		checkQuery(t, b, sv, features, query)
	})
}

// checkQuery sends query to GET predict and to the prototype's route and
// holds both answers to the reference.
func checkQuery(t *testing.T, b *testBundle, sv *served.Served, features []string, query string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.url+"/v1/models/titanic/predict", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = query
	checkAgainst(t, "GET predict ?"+query, b.send(t, req), refGet(sv, query))
	req, _ = http.NewRequest(http.MethodGet, b.url+"/", nil)
	req.URL.RawQuery = query
	checkAgainst(t, "GET / ?"+query, b.send(t, req), refPrototype(sv, features, query))
}
