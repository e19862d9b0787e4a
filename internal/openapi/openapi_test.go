package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/mlserve/mlserve/internal/apitest"
	"github.com/mlserve/mlserve/internal/openapi"
	"github.com/mlserve/mlserve/internal/schema"
)

func init() {
	// NDJSON bodies are lines of JSON; the validator checks them as text.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

// load parses and validates a generated document with kin-openapi.
func load(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("document is not valid OpenAPI 3: %v", err)
	}
	return doc
}

func TestDocument(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	r := env.Do(t, "GET", "/openapi.json", "", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || !bytes.Equal(r.Body, env.OpenAPI) {
		t.Fatalf("GET /openapi.json: %d %s, %d bytes (want the generated %d)", r.Status, r.Header.Get("Content-Type"), len(r.Body), len(env.OpenAPI))
	}
	doc := load(t, r.Body)

	prop := func(comp, name string) *openapi3.Schema {
		t.Helper()
		c := doc.Components.Schemas[comp]
		if c == nil || c.Value.Properties[name] == nil {
			t.Fatalf("component %s has no property %s", comp, name)
		}
		return c.Value.Properties[name].Value
	}
	f := func(p *float64) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	age := prop("titanic.Instance", "age")
	if age.Type.Slice()[0] != "number" || f(age.Min) != "0" || f(age.Max) != "120" || !age.Nullable {
		t.Errorf("titanic age: type %v min %s max %s nullable %v", age.Type, f(age.Min), f(age.Max), age.Nullable)
	}
	if sex := prop("titanic.Instance", "sex"); fmt.Sprint(sex.Enum) != "[male female F M]" || sex.Nullable {
		t.Errorf("titanic sex enum %v nullable %v", sex.Enum, sex.Nullable)
	}
	if class := prop("titanic.Instance", "class"); len(class.AnyOf) != 2 || fmt.Sprint(class.AnyOf[0].Value.Enum, class.AnyOf[1].Value.Enum) != "[1 2 3] [1 2 3]" {
		t.Errorf("titanic class: %+v", class)
	}
	if req := doc.Components.Schemas["titanic.Instance"].Value.Required; !slices.Equal(req, []string{"class", "sex"}) {
		t.Errorf("titanic required %v", req)
	}
	if d := prop("Column", "aliases").Description; d != "" {
		t.Errorf("Column.aliases has another schema's description %q", d)
	}
	ds, _ := apitest.Datasets()
	for _, name := range []string{"iris", "tips"} {
		sc := ds[name].Pipeline.Schema
		for _, i := range sc.Features() {
			c := sc.Columns[i]
			p := prop(name+".Instance", c.Name)
			switch c.Type {
			case schema.Number, schema.Integer:
				if p.Type.Slice()[0] != string(c.Type) || f(p.Min) != f(c.Min) || f(p.Max) != f(c.Max) {
					t.Errorf("%s.%s: type %v min %s max %s, want %s %s %s", name, c.Name, p.Type, f(p.Min), f(p.Max), c.Type, f(c.Min), f(c.Max))
				}
			case schema.Boolean:
				if !p.Type.Is("boolean") {
					t.Errorf("%s.%s: type %v, want boolean", name, c.Name, p.Type)
				}
			case schema.Category:
				if c.Unknown == schema.UnknownOther { // inferred: any label goes
					if p.Enum != nil || p.Example != c.Values[0] {
						t.Errorf("%s.%s: enum %v example %v, want no enum and example %q", name, c.Name, p.Enum, p.Example, c.Values[0])
					}
					continue
				}
				if fmt.Sprint(p.Enum) != fmt.Sprint(c.Values) {
					t.Errorf("%s.%s: enum %v, want %v", name, c.Name, p.Enum, c.Values)
				}
			}
		}
	}
	if e := prop("iris.PredictResponse", "predictions").Items.Value.Properties["label"].Value.Enum; fmt.Sprint(e) != "[setosa versicolor virginica]" {
		t.Errorf("iris label enum %v", e)
	}
	get := doc.Paths.Find("/v1/models/titanic/predict").Get
	if p := get.Parameters.GetByInAndName("query", "class"); p == nil || !p.Required || fmt.Sprint(p.Schema.Value.Enum) != "[1 2 3]" {
		t.Errorf("GET predict class parameter: %+v", p)
	}
	if p := get.Parameters.GetByInAndName("query", "age"); p == nil || p.Required || f(p.Schema.Value.Max) != "120" {
		t.Errorf("GET predict age parameter: %+v", p)
	}
	for _, path := range []string{"/", "/v1/models/{name}", "/v1/datasets/tips/rows", "/v2/models/iris/infer", "/v2/models/iris/versions/{version}/infer", "/v2/health/ready", "/v1/runs/{id}",
		"/v1/models/{name}/promotions", "/v1/datasets/{name}/quarantine", "/v1/datasets/{name}/quarantine/replay",
		"/v1/models/{name}/versions/{v}", "/v1/models/{name}/versions/{v}/artifact"} {
		if doc.Paths.Find(path) == nil {
			t.Errorf("path %s is missing", path)
		}
	}
	t.Run("roles", func(t *testing.T) {
		t.Parallel()
		data, err := openapi.Generate(&openapi.Options{Pipelines: []openapi.Pipeline{{Name: "sensors", Schema: apitest.Sensors}}, Ingest: true})
		if err != nil {
			t.Fatal(err)
		}
		doc := load(t, data)
		if doc.Paths.Find("/v1/datasets/sensors/rows") == nil || doc.Paths.Find("/v2/models/{name}") != nil || doc.Paths.Find("/") != nil {
			t.Errorf("ingest-only document has paths %v", doc.Paths.InMatchingOrder())
		}
	})
	t.Run("bad schema", func(t *testing.T) {
		t.Parallel()
		_, err := openapi.Generate(&openapi.Options{Pipelines: []openapi.Pipeline{{Name: "x", Schema: schema.Schema{Target: "y"}}}, API: true})
		if err == nil || !strings.Contains(err.Error(), "pipeline x") {
			t.Errorf("err %v, want one naming pipeline x", err)
		}
	})
}

// exchange is one request to the running server and what the document
// must say about it.
type exchange struct {
	method, path, ctype, body string
	status                    int
	// invalid says the request breaks the document (the server refuses
	// it, or, for ingest, quarantines the bad row).
	invalid bool
}

// query encodes a record as query parameters, booleans spelled true or
// false as the document says (the server also takes yes/no).
func query(d *apitest.Dataset, m map[string]string) string {
	q := url.Values{}
	for k, v := range m {
		if i := d.Schema.Index(k); i >= 0 && d.Schema.Column(i).Type == schema.Boolean {
			v = fmt.Sprint(strings.EqualFold(v, "yes") || strings.EqualFold(v, "true"))
		}
		q.Set(k, v)
	}
	return q.Encode()
}

// jsonRow types a CSV record as JSON values by the schema.
func jsonRow(d *apitest.Dataset, rec map[string]string, withTarget bool, i int) map[string]any {
	out := map[string]any{}
	for _, c := range d.Pipeline.Schema.Columns {
		text, ok := rec[c.Name]
		if c.Name == d.Pipeline.Schema.Target {
			if !withTarget {
				continue
			}
			text, ok = d.Records[i][slices.Index(d.Header, c.Name)], true
		}
		if !ok {
			continue
		}
		switch {
		case text == "":
			out[c.Name] = nil
		case c.Type == schema.Number || c.Type == schema.Integer:
			out[c.Name] = json.Number(text)
		case c.Type == schema.Boolean:
			out[c.Name] = strings.EqualFold(text, "yes") || strings.EqualFold(text, "true")
		default:
			out[c.Name] = text
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exchanges returns the success and error cases of every route family for
// a pipeline with a model.
func exchanges(t *testing.T, name string, d *apitest.Dataset) []exchange {
	sc := d.Pipeline.Schema
	rec := d.Record(0)
	var first schema.Column
	for _, i := range sc.Features() {
		if c := sc.Columns[i]; c.Type == schema.Number || c.Type == schema.Category {
			first = c
			break
		}
	}
	badRec := d.Record(0)
	badRec[first.Name] = "999999"
	inst := jsonRow(d, rec, false, 0)
	badInst := jsonRow(d, badRec, false, 0)
	var inputs []any
	for _, i := range sc.Features() {
		c := sc.Columns[i]
		inputs = append(inputs, map[string]any{"name": c.Name, "shape": []int{2}, "datatype": map[schema.Type]string{
			schema.Number: "FP64", schema.Integer: "INT64", schema.Boolean: "BOOL", schema.Category: "BYTES"}[c.Type],
			"data": []any{jsonRow(d, d.Record(0), false, 0)[c.Name], jsonRow(d, d.Record(1), false, 1)[c.Name]}})
	}
	badInputs := slices.Clone(inputs)
	badInputs[0] = map[string]any{"name": "no_such_column", "shape": []int{2}, "datatype": "FP64", "data": []any{1, 2}}
	row0, row1 := jsonRow(d, d.Record(0), true, 0), jsonRow(d, d.Record(1), true, 1)
	badRow := jsonRow(d, badRec, true, 0)
	csvBody := strings.Join(d.Header, ",") + "\n" + strings.Join(d.Records[2], ",") + "\n"
	return []exchange{
		{method: "GET", path: "/v1/models/" + name + "/predict?" + query(d, rec), status: 200},
		{method: "GET", path: "/v1/models/" + name + "/predict?" + query(d, badRec), status: 400, invalid: true},
		{method: "POST", path: "/v1/models/" + name + "/predict", ctype: "application/json", body: mustJSON(t, map[string]any{"instances": []any{inst, inst}}), status: 200},
		{method: "POST", path: "/v1/models/" + name + "/predict", ctype: "application/json", body: mustJSON(t, inst), status: 200},
		{method: "POST", path: "/v1/models/" + name + "/predict", ctype: "application/json", body: mustJSON(t, map[string]any{"instances": []any{inst, badInst}}), status: 400, invalid: true},
		{method: "POST", path: "/v1/models/" + name + "/predict", ctype: "application/json", body: `{"instances": []}`, status: 400, invalid: true},
		{method: "POST", path: "/v2/models/" + name + "/infer", ctype: "application/json", body: mustJSON(t, map[string]any{"id": "a", "inputs": inputs}), status: 200},
		{method: "POST", path: "/v2/models/" + name + "/versions/1/infer", ctype: "application/json", body: mustJSON(t, map[string]any{"inputs": inputs}), status: 200},
		{method: "POST", path: "/v2/models/" + name + "/versions/5/infer", ctype: "application/json", body: mustJSON(t, map[string]any{"inputs": inputs}), status: 404},
		{method: "POST", path: "/v2/models/" + name + "/infer", ctype: "application/json", body: mustJSON(t, map[string]any{"inputs": badInputs}), status: 400, invalid: true},
		{method: "GET", path: "/v2/models/" + name, status: 200},
		{method: "GET", path: "/v2/models/" + name + "/versions/1", status: 200},
		{method: "GET", path: "/v2/models/" + name + "/versions/1/ready", status: 200},
		{method: "GET", path: "/v2/models/" + name + "/ready", status: 200},
		{method: "GET", path: "/v1/models/" + name, status: 200},
		{method: "GET", path: "/v1/models/" + name + "/versions", status: 200},
		{method: "GET", path: "/v1/models/" + name + "/promotions", status: 200},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/json", body: mustJSON(t, []any{row0, row1}), status: 200},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/json", body: mustJSON(t, []any{row0, badRow}), status: 200, invalid: true},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "text/csv", body: csvBody, status: 200},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/x-ndjson", body: mustJSON(t, row0) + "\n", status: 200},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/xml", body: "<rows/>", status: 415, invalid: true},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/json", body: mustJSON(t, row1), status: 200},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/json", body: `{"not": "a row"}`, status: 200, invalid: true},
		{method: "POST", path: "/v1/datasets/" + name + "/rows", ctype: "application/json", body: `"rows"`, status: 400, invalid: true},
		{method: "GET", path: "/v1/datasets/" + name, status: 200},
	}
}

func TestRequestsAndResponses(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	doc := load(t, env.OpenAPI)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	titanic := env.Data["titanic"]
	common := []exchange{
		{method: "GET", path: "/?" + query(titanic, titanic.Record(0)), status: 200},
		{method: "GET", path: "/?class=1&sex=alien", status: 400, invalid: true},
		{method: "GET", path: "/healthz", status: 200},
		{method: "GET", path: "/readyz", status: 200},
		{method: "GET", path: "/openapi.json", status: 200},
		{method: "GET", path: "/v2", status: 200},
		{method: "GET", path: "/v2/health/live", status: 200},
		{method: "GET", path: "/v2/health/ready", status: 200},
		{method: "GET", path: "/v1/models", status: 200},
		{method: "GET", path: "/v1/models/nope", status: 404, invalid: true},
		{method: "GET", path: "/v2/models/nope", status: 404, invalid: true},
		{method: "GET", path: "/v2/models/titanic/versions/9", status: 404},
		{method: "GET", path: "/v2/models/titanic/versions/x", status: 404, invalid: true},
		{method: "GET", path: "/v2/models/sensors", status: 503},
		{method: "GET", path: "/v2/models/sensors/ready", status: 503},
		{method: "POST", path: "/v2/models/sensors/infer", ctype: "application/json", body: `{"inputs": [{"name": "temp", "shape": [1], "datatype": "FP64", "data": [20]}]}`, status: 503},
		{method: "GET", path: "/v1/models/sensors/predict?temp=20", status: 503},
		{method: "GET", path: "/v1/models/sensors/predict?temp=900", status: 503, invalid: true},
		{method: "GET", path: "/v1/runs", status: 200},
		{method: "GET", path: "/v1/runs?pipeline=nope", status: 404, invalid: true},
		{method: "GET", path: "/v1/runs/999", status: 404},
		{method: "GET", path: "/v1/runs/abc", status: 400, invalid: true},
		{method: "GET", path: "/v1/datasets/nope", status: 404, invalid: true},
	}
	for _, name := range []string{"titanic", "iris", "tips"} {
		common = append(common, exchanges(t, name, env.Data[name])...)
	}
	// Registry writes last: they change what is served.
	common = append(common,
		exchange{method: "POST", path: "/v1/models/titanic/versions/9/promote", status: 404},
		exchange{method: "POST", path: "/v1/models/titanic/versions/2/promote?reason=test", status: 200},
		exchange{method: "POST", path: "/v1/models/titanic/rollback", status: 200},
		exchange{method: "POST", path: "/v1/models/sensors/rollback", status: 409},
		exchange{method: "POST", path: "/v1/pipelines/iris/runs", status: 202},
		exchange{method: "GET", path: "/v1/runs/1", status: 200},
	)
	for _, ex := range common {
		check(t, env, router, ex)
	}

	t.Run("limits and admin token", func(t *testing.T) {
		t.Parallel()
		env := apitest.Start(t, apitest.Options{MaxBatch: 1, Token: "s3cret"})
		inst := mustJSON(t, jsonRow(titanic, titanic.Record(0), false, 0))
		two := `{"inputs": [{"name": "class", "shape": [2], "datatype": "BYTES", "data": ["1", "2"]}, {"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["male", "F"]}]}`
		for _, ex := range []exchange{
			{method: "POST", path: "/v1/models/titanic/predict", ctype: "application/json", body: `{"instances": [` + inst + `, ` + inst + `]}`, status: 413},
			{method: "POST", path: "/v2/models/titanic/infer", ctype: "application/json", body: two, status: 413},
			{method: "POST", path: "/v1/models/titanic/rollback", status: 401},
			{method: "POST", path: "/v1/pipelines/titanic/runs", status: 401},
			{method: "POST", path: "/v1/datasets/titanic/rows", ctype: "application/json", body: "[]", status: 401},
		} {
			check(t, env, router, ex)
		}
	})

	t.Run("not ready", func(t *testing.T) {
		t.Parallel()
		env := apitest.Start(t, apitest.Options{NoReload: true})
		for _, ex := range []exchange{
			{method: "GET", path: "/readyz", status: 503},
			{method: "GET", path: "/v2/health/ready", status: 503},
			{method: "GET", path: "/v2/models/titanic/ready", status: 503},
			{method: "GET", path: "/v2/models/titanic", status: 503},
			{method: "GET", path: "/v1/models/titanic/predict?class=1&sex=male", status: 503},
			{method: "GET", path: "/?class=1&sex=male", status: 503},
		} {
			check(t, env, router, ex)
		}
	})
}

// check sends ex to the server and validates the request and the answer
// against the document.
func check(t *testing.T, env *apitest.Env, router routers.Router, ex exchange) {
	t.Helper()
	ctx := context.Background()
	label := ex.method + " " + ex.path
	if len(label) > 90 {
		label = label[:90] + "…"
	}
	req := env.Request(t, ex.method, ex.path, ex.ctype, ex.body)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("%s: the document has no route for it: %v", label, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case ex.invalid && reqErr == nil:
		t.Errorf("%s: the document accepts a request the server refuses", label)
	case !ex.invalid && reqErr != nil:
		t.Errorf("%s: request does not fit the document: %v", label, reqErr)
	}
	res := env.Send(t, env.Request(t, ex.method, ex.path, ex.ctype, ex.body))
	if res.Status != ex.status {
		t.Errorf("%s: status %d, want %d: %s", label, res.Status, ex.status, res.Body)
		return
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.Status, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(res.Body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s: %d answer does not fit the document: %v\nbody: %.400s", label, res.Status, err, res.Body)
	}
}

// TestTimestampAndOtherColumns checks the document of a timestamp column
// (any ISO 8601 date or date-time the server reads, nothing else) and of a
// category with unknown: other (any label, not an enum).
func TestTimestampAndOtherColumns(t *testing.T) {
	t.Parallel()
	data, err := openapi.Generate(&openapi.Options{API: true, Pipelines: []openapi.Pipeline{{Name: "p", Schema: schema.Schema{
		Target: "y", Columns: []schema.Column{
			{Name: "y", Type: schema.Number},
			{Name: "at", Type: schema.Timestamp},
			{Name: "color", Type: schema.Category, Values: []string{"red", "blue"}, Unknown: schema.UnknownOther},
			{Name: "od280/od315", Type: schema.Number},
		}}}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := load(t, data)
	inst := doc.Components.Schemas["p.Instance"]
	if inst == nil {
		t.Fatal("no p.Instance component")
	}
	props := inst.Value.Properties
	for _, tt := range []struct {
		col   string
		value any
		ok    bool
	}{
		{"at", "2024-03-01", true},
		{"at", "2024-03-01T13:45:00Z", true},
		{"at", "2024-03-01 13:45:00.5+02:00", true},
		{"at", "yesterday", false},
		{"at", "03/01/2024", false},
		{"color", "red", true},
		{"color", "purple", true},
		{"od280/od315", 3.2, true},
	} {
		p := props[tt.col]
		if p == nil {
			t.Fatalf("p.Instance has no property %q", tt.col)
		}
		if err := p.Value.VisitJSON(tt.value); (err == nil) != tt.ok {
			t.Errorf("%s = %v: validation error %v, want accepted %v", tt.col, tt.value, err, tt.ok)
		}
	}
}
