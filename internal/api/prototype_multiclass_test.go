package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/mlserve/mlserve/internal/apitest"
)

// TestPrototypeMulticlass checks the prototype's GET / on a multiclass
// model (iris): data.result is the probability of the predicted class and
// data.label names that class, as /v1 predict gives them.
func TestPrototypeMulticlass(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{First: "iris"})
	const q = "sepal_length=6.7&sepal_width=3.0&petal_length=5.2&petal_width=2.3"
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	var proto struct {
		Data struct {
			Result float64 `json:"result"`
			Label  *string `json:"label"`
		} `json:"data"`
	}
	get("/?"+q, &proto)
	var pred struct {
		Predictions []struct {
			Label         string             `json:"label"`
			Probabilities map[string]float64 `json:"probabilities"`
		} `json:"predictions"`
	}
	get("/v1/models/iris/predict?"+q, &pred)
	want := pred.Predictions[0]
	if proto.Data.Label == nil || *proto.Data.Label != want.Label || proto.Data.Result != want.Probabilities[want.Label] {
		t.Errorf("GET / data: label %v, result %v; want label %q with its probability %v", proto.Data.Label, proto.Data.Result, want.Label, want.Probabilities[want.Label])
	}
}
