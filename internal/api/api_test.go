package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/apitypes"
	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/store"
)

var (
	versionKeys   = []string{"pipeline", "version", "state", "algorithm", "metrics", "artifact_sha256", "data_watermark", "data_rows", "data_sha256", "run_id", "spec_version", "reason", "created_at", "checks"}
	promotionKeys = []string{"id", "pipeline", "from_version", "to_version", "action", "actor", "reason", "created_at"}
	modelKeys     = []string{"name", "task", "production_version", "production", "served_version"}
)

// modelInfo is the answer of GET /v1/models/{name}.
type modelInfo struct {
	Name              string            `json:"name"`
	Task              string            `json:"task"`
	Schema            *json.RawMessage  `json:"schema"`
	ProductionVersion *int              `json:"production_version"`
	Production        *apitypes.Version `json:"production"`
	ServedVersion     *int              `json:"served_version"`
}

func getModel(t *testing.T, b *testBundle, name string) modelInfo {
	t.Helper()
	r := b.get(t, "/v1/models/"+name)
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/models/%s: status %d: %s", name, r.status, r.body)
	}
	top := hasKeys(t, r.body, append(slices.Clone(modelKeys), "schema"), []string{"feature_importance", "params"})
	if string(top["production"]) != "null" {
		hasKeys(t, top["production"], versionKeys, nil)
	}
	var m modelInfo
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func intp(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// servedVersion asks the predict route which version answers.
func servedVersion(t *testing.T, b *testBundle) int {
	t.Helper()
	r := b.get(t, "/v1/models/titanic/predict?class=1&sex=F")
	if r.status != http.StatusOK {
		t.Fatalf("predict: status %d: %s", r.status, r.body)
	}
	var p predictResponse
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Version
}

func TestModelRoutes(t *testing.T) {
	t.Parallel()

	t.Run("models", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		r := b.get(t, "/v1/models")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var list struct {
			Models []json.RawMessage `json:"models"`
		}
		decodeInto(t, r.body, &list, "models")
		if len(list.Models) != 2 {
			t.Fatalf("models: got %d, want 2: %s", len(list.Models), r.body)
		}
		var names []string
		for _, raw := range list.Models {
			hasKeys(t, raw, modelKeys, nil) // no schema, params or importance in the list
			var m modelInfo
			json.Unmarshal(raw, &m)
			names = append(names, m.Name)
			switch m.Name {
			case "titanic":
				if intp(m.ProductionVersion) != "1" || intp(m.ServedVersion) != "1" || m.Production == nil || m.Production.Version != 1 || m.Task != "binary" {
					t.Errorf("titanic: got %s", raw)
				}
			case "sensors":
				if m.ProductionVersion != nil || m.Production != nil || m.ServedVersion != nil {
					t.Errorf("sensors: got %s, want no version", raw)
				}
			}
		}
		if !slices.Equal(names, []string{"titanic", "sensors"}) {
			t.Errorf("names: got %v, want configuration order", names)
		}
	})

	t.Run("model", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		m := getModel(t, b, "titanic")
		if m.Name != "titanic" || m.Task != "binary" || intp(m.ProductionVersion) != "1" || intp(m.ServedVersion) != "1" {
			t.Errorf("got name %s task %s production %s served %s", m.Name, m.Task, intp(m.ProductionVersion), intp(m.ServedVersion))
		}
		if m.Production == nil || m.Production.Version != 1 || m.Production.State != string(store.StateProduction) ||
			m.Production.ArtifactSHA256 != b.fit.fits[0].SHA256 || !reflect.DeepEqual(m.Production.Metrics, b.fit.fits[0].Metrics) {
			t.Errorf("production: got %+v", m.Production)
		}
		var sc struct {
			Target  string `json:"target"`
			Columns []struct {
				Name string `json:"name"`
			} `json:"columns"`
		}
		if m.Schema == nil {
			t.Fatal("schema is missing")
		}
		json.Unmarshal(*m.Schema, &sc)
		var cols []string
		for _, c := range sc.Columns {
			cols = append(cols, c.Name)
		}
		if sc.Target != "survived" || !slices.Equal(cols, []string{"survived", "class", "sex", "age", "embarked"}) {
			t.Errorf("schema: got %s", *m.Schema)
		}

		none := getModel(t, b, "sensors")
		if none.ProductionVersion != nil || none.Production != nil || none.ServedVersion != nil {
			t.Errorf("sensors: got production %s served %s, want null", intp(none.ProductionVersion), intp(none.ServedVersion))
		}
		errAnswer(t, b.get(t, "/v1/models/nope"), http.StatusNotFound, "model_not_found")
	})

	t.Run("versions", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		r := b.get(t, "/v1/models/titanic/versions")
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var list struct {
			Versions []json.RawMessage `json:"versions"`
		}
		decodeInto(t, r.body, &list, "versions")
		var got []string
		for _, raw := range list.Versions {
			hasKeys(t, raw, versionKeys, nil)
			var v apitypes.Version
			json.Unmarshal(raw, &v)
			got = append(got, fmt.Sprintf("v%d %s %s", v.Version, v.State, v.ArtifactSHA256[:8]))
		}
		want := []string{
			"v2 candidate " + b.fit.fits[1].SHA256[:8],
			"v1 production " + b.fit.fits[0].SHA256[:8],
		}
		if !slices.Equal(got, want) {
			t.Errorf("versions: got %v, want %v (newest first)", got, want)
		}
		r = b.get(t, "/v1/models/sensors/versions")
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"versions":[]}` {
			t.Errorf("sensors: got %d %s, want an empty list", r.status, r.body)
		}
		errAnswer(t, b.get(t, "/v1/models/nope/versions"), http.StatusNotFound, "model_not_found")
	})

	t.Run("promote_and_rollback", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		promotion := func(r *response, from, to int, action string) {
			t.Helper()
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			hasKeys(t, r.body, promotionKeys, nil)
			var p apitypes.Promotion
			json.Unmarshal(r.body, &p)
			if p.Pipeline != "titanic" || p.FromVersion != from || p.ToVersion != to || p.Action != action || !strings.HasPrefix(p.Actor, "api:127.0.0.1") {
				t.Errorf("promotion: got %s, want %d->%d %s by api:127.0.0.1", r.body, from, to, action)
			}
		}

		promotion(b.post(t, "/v1/models/titanic/versions/2/promote?reason=better", ""), 1, 2, "promote")
		// Served at once: the route reloads before it answers.
		if got := servedVersion(t, b); got != 2 {
			t.Errorf("served after promote: got v%d, want v2", got)
		}
		if m := getModel(t, b, "titanic"); intp(m.ProductionVersion) != "2" || intp(m.ServedVersion) != "2" || m.Production.Reason != "better" {
			t.Errorf("after promote: production %s served %s reason %q", intp(m.ProductionVersion), intp(m.ServedVersion), m.Production.Reason)
		}
		checkPredictions(t, b, b.get(t, "/v1/models/titanic/predict?class=2&sex=M&age=30&embarked=C"), 2, 1, []any{2, false, 30.0, "C"})

		errAnswer(t, b.post(t, "/v1/models/titanic/versions/2/promote", ""), http.StatusConflict, "conflict")

		promotion(b.post(t, "/v1/models/titanic/rollback", ""), 2, 1, "rollback")
		if got := servedVersion(t, b); got != 1 {
			t.Errorf("served after rollback: got v%d, want v1", got)
		}
		// v1 was the first production version: nothing to roll back to.
		e := errAnswer(t, b.post(t, "/v1/models/titanic/rollback", ""), http.StatusConflict, "conflict")
		if !strings.Contains(e.Message, "before version 1") {
			t.Errorf("message %q does not say why", e.Message)
		}
		if got := servedVersion(t, b); got != 1 {
			t.Errorf("served after refused rollback: got v%d, want v1", got)
		}

		r := b.get(t, "/v1/models/titanic/promotions")
		var log struct {
			Promotions []apitypes.Promotion `json:"promotions"`
		}
		decodeInto(t, r.body, &log, "promotions")
		var got []string
		for _, p := range log.Promotions {
			got = append(got, fmt.Sprintf("%s %d->%d", p.Action, p.FromVersion, p.ToVersion))
		}
		if want := []string{"rollback 2->1", "promote 1->2", "promote 0->1"}; !slices.Equal(got, want) {
			t.Errorf("promotion log: got %v, want %v", got, want)
		}
	})

	t.Run("promote_errors", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		errAnswer(t, b.post(t, "/v1/models/titanic/versions/99/promote", ""), http.StatusNotFound, "not_found")
		for _, v := range []string{"abc", "0", "-1", "1.5", "2x", "99999999999999999999999"} {
			e := errAnswer(t, b.post(t, "/v1/models/titanic/versions/"+v+"/promote", ""), http.StatusBadRequest, "bad_request")
			if want := map[string]string{"v": "must be a positive whole number"}; !reflect.DeepEqual(e.Fields, want) {
				t.Errorf("%s: fields %v, want %v", v, e.Fields, want)
			}
		}
		errAnswer(t, b.post(t, "/v1/models/nope/versions/1/promote", ""), http.StatusNotFound, "model_not_found")
		errAnswer(t, b.post(t, "/v1/models/nope/rollback", ""), http.StatusNotFound, "model_not_found")
		// A pipeline without any production version has nothing to roll back.
		errAnswer(t, b.post(t, "/v1/models/sensors/rollback", ""), http.StatusConflict, "conflict")
		if got := servedVersion(t, b); got != 1 {
			t.Errorf("served: got v%d, want v1", got)
		}
	})

	t.Run("runs", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		errAnswer(t, b.get(t, "/v1/runs/999"), http.StatusNotFound, "not_found")
		for _, id := range []string{"x", "0", "-3", "1.0"} {
			e := errAnswer(t, b.get(t, "/v1/runs/"+id), http.StatusBadRequest, "bad_request")
			if want := map[string]string{"id": "must be a positive whole number"}; !reflect.DeepEqual(e.Fields, want) {
				t.Errorf("%s: fields %v, want %v", id, e.Fields, want)
			}
		}
		r := b.get(t, "/v1/runs")
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"runs":[]}` {
			t.Errorf("GET /v1/runs: got %d %s, want an empty list", r.status, r.body)
		}

		r = b.post(t, "/v1/pipelines/titanic/runs", "")
		if r.status != http.StatusAccepted {
			t.Fatalf("POST runs: status %d: %s", r.status, r.body)
		}
		var run apitypes.Run
		json.Unmarshal(r.body, &run)
		if run.ID < 1 || run.Pipeline != "titanic" || run.State != string(store.RunQueued) || run.Reason != store.ReasonManual {
			t.Errorf("POST runs: got %s", r.body)
		}
		r = b.get(t, fmt.Sprintf("/v1/runs/%d", run.ID))
		if r.status != http.StatusOK {
			t.Fatalf("GET run: status %d: %s", r.status, r.body)
		}
		hasKeys(t, r.body, []string{"id", "pipeline", "state", "reason", "created_at", "started_at", "finished_at", "artifact_sha256", "error", "attempt", "data_watermark", "data_rows", "spec_version", "message", "checks"}, []string{"version"})
		var got apitypes.Run
		json.Unmarshal(r.body, &got)
		if got.ID != run.ID || got.State != string(store.RunQueued) {
			t.Errorf("GET run: got %s", r.body)
		}
		errAnswer(t, b.post(t, "/v1/pipelines/nope/runs", ""), http.StatusNotFound, "model_not_found")
		errAnswer(t, b.get(t, "/v1/runs?pipeline=nope"), http.StatusNotFound, "model_not_found")
	})

	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 2, promote: true, token: "tok"})
		for _, p := range []string{"/v1/models/titanic/versions/2/promote", "/v1/models/titanic/rollback", "/v1/pipelines/titanic/runs"} {
			errAnswer(t, b.post(t, p, ""), http.StatusUnauthorized, "unauthorized")
		}
		if got := servedVersion(t, b); got != 1 {
			t.Errorf("served: got v%d, want v1", got)
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/models/titanic/versions/2/promote", nil)
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("with token: status %d: %s", rec.Code, rec.Body)
		}

		_, open := setup(t)
		req = httptest.NewRequest(http.MethodPost, "/v1/models/titanic/versions/2/promote", nil)
		req.RemoteAddr = "198.51.100.4:999"
		rec = httptest.NewRecorder()
		open.handler.ServeHTTP(rec, req)
		errAnswer(t, &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}, http.StatusForbidden, "forbidden")
		// Reading is open to everyone.
		req = httptest.NewRequest(http.MethodGet, "/v1/models/titanic/predict?class=1&sex=F", nil)
		req.RemoteAddr = "198.51.100.4:999"
		rec = httptest.NewRecorder()
		open.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("predict from afar: status %d", rec.Code)
		}
	})
}

// decodeInto decodes data into v, which must have exactly keys.
func decodeInto(t *testing.T, data []byte, v any, keys ...string) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	hasKeys(t, data, keys, nil)
}

func TestModelsReload(t *testing.T) {
	t.Parallel()

	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, promote: true, noReload: true})
		if err := b.models.Ready(context.Background()); err == nil {
			t.Error("Ready before the first Reload: got nil, want an error")
		}
		r := b.get(t, "/readyz")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "models") {
			t.Errorf("/readyz before the first Reload: got %d %s, want 503 naming models", r.status, r.body)
		}
		errAnswer(t, b.get(t, "/v1/models/titanic/predict?class=1&sex=F"), http.StatusServiceUnavailable, "no_model")
		b.reload(t)
		if err := b.models.Ready(context.Background()); err != nil {
			t.Errorf("Ready after Reload: %v", err)
		}
		if r := b.get(t, "/readyz"); r.status != http.StatusOK {
			t.Errorf("/readyz after Reload: got %d %s", r.status, r.body)
		}
		if got := servedVersion(t, b); got != 1 {
			t.Errorf("served: got v%d, want v1", got)
		}
	})

	t.Run("ready_without_models", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{noReload: true})
		if err := b.models.Ready(context.Background()); err == nil {
			t.Error("Ready before the first Reload: got nil, want an error")
		}
		b.reload(t)
		// Nothing is in production, so nothing is missing.
		if err := b.models.Ready(context.Background()); err != nil {
			t.Errorf("Ready after Reload: %v", err)
		}
	})

	t.Run("swap", func(t *testing.T) {
		t.Parallel()
		_, b := setup(t)
		b.promote(t, 2) // as another process would: the registry changes, this server has not looked
		if got := b.served(t); got != 1 {
			t.Errorf("served before Reload: got v%d, want v1", got)
		}
		b.reload(t)
		if got := b.served(t); got != 2 {
			t.Errorf("served after Reload: got v%d, want v2", got)
		}
		if got := servedVersion(t, b); got != 2 {
			t.Errorf("predict after Reload: got v%d, want v2", got)
		}
		b.reload(t) // nothing changed: no swap
		swaps, fails := b.swapsAndFails()
		if want := []string{"titanic 0->1", "titanic 1->2"}; !slices.Equal(swaps, want) {
			t.Errorf("swaps: got %v, want %v", swaps, want)
		}
		if len(fails) != 0 {
			t.Errorf("fails: got %v, want none", fails)
		}
	})

	corruptions := []struct {
		name    string
		corrupt func(t *testing.T, b *testBundle, key string)
		is      error
	}{
		{"other_artifact", func(t *testing.T, b *testBundle, key string) {
			// A valid artifact, but not the one registered.
			if err := b.bucket.Put(context.Background(), key, b.fit.fits[0].Bytes); err != nil {
				t.Fatal(err)
			}
		}, artifact.ErrHashMismatch},
		{"flipped_byte", func(t *testing.T, b *testBundle, key string) {
			data := append([]byte(nil), b.fit.fits[2].Bytes...)
			data[len(data)/2] ^= 1
			if err := b.bucket.Put(context.Background(), key, data); err != nil {
				t.Fatal(err)
			}
		}, artifact.ErrHashMismatch},
		{"truncated", func(t *testing.T, b *testBundle, key string) {
			if err := b.bucket.Put(context.Background(), key, b.fit.fits[2].Bytes[:100]); err != nil {
				t.Fatal(err)
			}
		}, artifact.ErrHashMismatch},
		{"missing", func(t *testing.T, b *testBundle, key string) {
			if err := b.bucket.Delete(context.Background(), key); err != nil {
				t.Fatal(err)
			}
		}, blob.ErrNotFound},
	}
	for _, tc := range corruptions {
		t.Run("corrupt_"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			ctx := context.Background()
			v3 := b.register(t, 2)
			tc.corrupt(t, b, v3.ArtifactKey)
			// Promoted in the database directly: the registry's own Promote
			// refuses an artifact it cannot load.
			if _, err := b.db.VersionPromote(ctx, &store.VersionPromoteParams{Pipeline: "titanic", Version: 3, Action: store.ActionPromote, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			b.reload(t)
			b.reload(t) // a failed version is not retried until it changes
			if got := b.served(t); got != 1 {
				t.Errorf("served: got v%d, want v1 kept", got)
			}
			if got := servedVersion(t, b); got != 1 {
				t.Errorf("predict: got v%d, want v1", got)
			}
			swaps, fails := b.swapsAndFails()
			if want := []string{"titanic 0->1"}; !slices.Equal(swaps, want) {
				t.Errorf("swaps: got %v, want %v", swaps, want)
			}
			if len(fails) != 1 || !strings.HasPrefix(fails[0].Error(), "titanic v3: ") || !errors.Is(fails[0], tc.is) {
				t.Errorf("fails: got %v, want one for titanic v3 wrapping %v", fails, tc.is)
			}
			if err := b.models.Ready(ctx); err != nil {
				t.Errorf("Ready: %v (a model is served)", err)
			}
			m := getModel(t, b, "titanic")
			if intp(m.ProductionVersion) != "3" || intp(m.ServedVersion) != "1" {
				t.Errorf("model: production %s served %s, want 3 and 1", intp(m.ProductionVersion), intp(m.ServedVersion))
			}

			// A good promotion still gets through.
			b.promote(t, 2)
			b.reload(t)
			if got := servedVersion(t, b); got != 2 {
				t.Errorf("predict after promoting v2: got v%d, want v2", got)
			}
		})
	}

	t.Run("corrupt_first_version", func(t *testing.T) {
		t.Parallel()
		_, b := setupWith(t, setupOpts{versions: 1, noReload: true})
		ctx := context.Background()
		v, err := b.db.VersionGet(ctx, "titanic", 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.bucket.Put(ctx, v.ArtifactKey, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.VersionPromote(ctx, &store.VersionPromoteParams{Pipeline: "titanic", Version: 1, Action: store.ActionPromote, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
		b.reload(t)
		if err := b.models.Ready(ctx); err == nil || !strings.Contains(err.Error(), "titanic") {
			t.Errorf("Ready: got %v, want an error naming titanic", err)
		}
		if r := b.get(t, "/readyz"); r.status != http.StatusServiceUnavailable {
			t.Errorf("/readyz: got %d, want 503", r.status)
		}
		errAnswer(t, b.get(t, "/v1/models/titanic/predict?class=1&sex=F"), http.StatusServiceUnavailable, "model_unloadable")
		b.reload(t) // tried again, but the same failure is reported once
		if _, fails := b.swapsAndFails(); len(fails) != 1 || !errors.Is(fails[0], artifact.ErrHashMismatch) {
			t.Errorf("fails: got %v, want one hash mismatch", fails)
		}
	})

	for _, tc := range []struct {
		name  string
		spoil func(ctx context.Context, b *testBundle, key string) error
	}{
		{"garbage", func(ctx context.Context, b *testBundle, key string) error {
			return b.bucket.Put(ctx, key, []byte("garbage"))
		}},
		{"missing", func(ctx context.Context, b *testBundle, key string) error {
			return b.bucket.Delete(ctx, key)
		}},
	} {
		t.Run("promote_route_refuses_bad_artifact_"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, b := setup(t)
			v3 := b.register(t, 2)
			if err := tc.spoil(context.Background(), b, v3.ArtifactKey); err != nil {
				t.Fatal(err)
			}
			// The version cannot be served in its stored state: 409 with a
			// stable code. The answer hides the details (the log has them).
			e := errAnswer(t, b.post(t, "/v1/models/titanic/versions/3/promote", ""), http.StatusConflict, "artifact_unusable")
			if strings.Contains(e.Message, "hash") || strings.Contains(e.Message, v3.ArtifactKey) ||
				!strings.Contains(e.Message, "missing or corrupt") || !strings.Contains(e.Message, "request id") {
				t.Errorf("message %q: want it to say missing or corrupt, the request id, and no internals", e.Message)
			}
			if m := getModel(t, b, "titanic"); intp(m.ProductionVersion) != "1" || intp(m.ServedVersion) != "1" {
				t.Errorf("after refused promote: production %s served %s, want 1 and 1", intp(m.ProductionVersion), intp(m.ServedVersion))
			}
		})
	}
}

// TestHotSwapUnderLoad promotes back and forth while clients predict: every
// request succeeds, answered by one of the two versions.
func TestHotSwapUnderLoad(t *testing.T) {
	t.Parallel()
	_, b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The reload loop also runs, as in the api role.
	models := b.models
	go models.Run(ctx)

	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := http.Get(b.url + "/v1/models/titanic/predict?class=1&sex=F&age=30")
				if err != nil {
					t.Error(err)
					return
				}
				var p predictResponse
				err = json.NewDecoder(res.Body).Decode(&p)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || err != nil || len(p.Predictions) != 1 {
					t.Errorf("predict during swaps: status %d, err %v", res.StatusCode, err)
					return
				}
				mu.Lock()
				seen[p.Version]++
				mu.Unlock()
			}
		}()
	}
	for i := range 10 {
		v := 2 - i%2
		if r := b.post(t, fmt.Sprintf("/v1/models/titanic/versions/%d/promote", v), ""); r.status != http.StatusOK {
			t.Errorf("promote v%d: %d %s", v, r.status, r.body)
		}
	}
	close(stop)
	wg.Wait()
	for v := range seen {
		if v != 1 && v != 2 {
			t.Errorf("answered by v%d", v)
		}
	}
	if got := servedVersion(t, b); got != 1 {
		t.Errorf("served at the end: v%d, want v1", got)
	}
}
