package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// TestInferenceProtocolAndOpenAPI asks the real binary (`up --demo`) for a
// prediction through the Open Inference Protocol, checks it against the
// served OpenAPI document with kin-openapi, and checks that unknown routes
// and wrong methods answer the JSON envelope.
func TestInferenceProtocolAndOpenAPI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, t.TempDir(), "up", "--demo")
	eventually(t, 60*time.Second, 50*time.Millisecond, "the demo's first model is ready on /v2", func() bool {
		code, _ := srv.get("/v2/models/titanic/ready")
		return code == http.StatusOK
	})

	code, docBytes := srv.get("/openapi.json")
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", code, docBytes)
	}
	doc, err := openapi3.NewLoader().LoadFromData(docBytes)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("served document is not valid OpenAPI 3: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}

	body := []byte(`{"id": "e2e", "inputs": [
		{"name": "class", "shape": [2], "datatype": "BYTES", "data": ["1", "3"]},
		{"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["female", "male"]},
		{"name": "age", "shape": [2], "datatype": "FP64", "data": [30, null]}]}`)
	var answer struct {
		ModelName    string `json:"model_name"`
		ModelVersion string `json:"model_version"`
		ID           string `json:"id"`
		Outputs      []struct {
			Name string `json:"name"`
			Data []any  `json:"data"`
		} `json:"outputs"`
	}
	for _, ex := range []struct {
		method, path string
		body         []byte
		status       int
		v            any
	}{
		{method: "POST", path: "/v2/models/titanic/infer", body: body, status: 200, v: &answer},
		{method: "GET", path: "/v2/models/titanic", status: 200},
		{method: "GET", path: "/?class=1&sex=female&age=22&embarked=S", status: 200},
		{method: "GET", path: "/v1/models/titanic/predict?class=3&sex=male", status: 200},
		{method: "GET", path: "/v1/models/titanic/predict?class=4&sex=male", status: 400},
	} {
		req, err := http.NewRequest(ex.method, srv.base+ex.path, bytes.NewReader(ex.body))
		if err != nil {
			t.Fatal(err)
		}
		if ex.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s: not in the document: %v", ex.method, ex.path, err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != ex.status {
			t.Fatalf("%s %s: status %d, want %d: %s", ex.method, ex.path, res.StatusCode, ex.status, data)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
		if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
			Status: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(data)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}); err != nil {
			t.Errorf("%s %s: answer does not fit the document: %v\n%s", ex.method, ex.path, err, data)
		}
		if ex.v != nil {
			if err := json.Unmarshal(data, ex.v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var model struct {
		ServedVersion int `json:"served_version"`
	}
	srv.getJSON(t, "/v1/models/titanic", http.StatusOK, &model)
	if answer.ModelName != "titanic" || answer.ID != "e2e" || len(answer.Outputs) != 2 || answer.Outputs[0].Name != "label" || len(answer.Outputs[1].Data) != 4 {
		t.Errorf("infer answer %+v", answer)
	}
	if v, err := strconv.Atoi(answer.ModelVersion); err != nil || v < 1 || v > model.ServedVersion {
		t.Errorf("model_version %q, want a version up to the served %d", answer.ModelVersion, model.ServedVersion)
	}

	for _, c := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/no/such/route", 404, `{"error":{"code":"not_found"`},
		{"DELETE", "/v1/models", 405, `{"error":{"code":"method_not_allowed"`},
		{"GET", "/v2/models/titanic/infer", 405, `{"error":"`},
		{"GET", "/v2/models/nope", 404, `{"error":"`},
	} {
		code, b := srv.do(c.method, c.path, "", nil)
		if code != c.status || !bytes.HasPrefix(b, []byte(c.want)) {
			t.Errorf("%s %s: %d %s, want %d starting %s", c.method, c.path, code, b, c.status, c.want)
		}
	}
	srv.stop(t, 15*time.Second)
}
