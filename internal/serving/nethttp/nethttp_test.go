package nethttp_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/serving"
	"github.com/mlserve/mlserve/internal/serving/nethttp"
)

// echo is a route that answers what it saw of the request, and notes a
// model, a version and rows for the request metrics.
func echo(r *serving.Request, rp *httpx.Reply) {
	rp.Reset()
	b := append(rp.Body, `{"values":[`...)
	b = jsonw.String(b, r.Values[0])
	b = append(b, ',')
	b = jsonw.String(b, r.Values[1])
	b = append(b, `],"query":`...)
	b = jsonw.String(b, r.RawQuery)
	b = append(b, `,"body":`...)
	b = jsonw.String(b, string(r.Body))
	b = append(b, `,"id":`...)
	b = jsonw.String(b, r.ID)
	b = append(b, `,"header":`...)
	b = jsonw.String(b, r.Header("X-Thing"))
	b = append(b, `,"live":`...)
	b = strconv.AppendBool(b, r.Context.Err() == nil)
	rp.Status, rp.Body = http.StatusTeapot, append(b, "}\n"...)
	rp.Model, rp.Version, rp.Rows = "m", 3, 2
	rp.RetryAfter = 7
}

type seen struct {
	Values []string `json:"values"`
	Query  string   `json:"query"`
	Body   string   `json:"body"`
	ID     string   `json:"id"`
	Header string   `json:"header"`
	Live   bool     `json:"live"`
}

// observed is what the middleware's observer saw of a request.
type observed struct {
	pattern       string
	model         string
	version, rows int
	status        int
}

func setup(t *testing.T, o nethttp.Options) (string, func() observed) {
	t.Helper()
	mux := http.NewServeMux()
	nethttp.Mount(mux, []serving.Route{
		{Pattern: "POST /m/{name}/v/{version}/x", Serve: echo},
		{Pattern: "GET /m/{name}", Serve: echo},
	}, o, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Wrapped", "yes")
			h.ServeHTTP(w, r)
		})
	})
	var mu sync.Mutex
	var last observed
	srv := httptest.NewServer(httpx.Middleware(slog.New(slog.DiscardHandler), func(r *http.Request, pattern string, status int, _ time.Duration) {
		model, version, rows := httpx.Noted(r)
		mu.Lock()
		last = observed{pattern, model, version, rows, status}
		mu.Unlock()
	}, mux))
	t.Cleanup(srv.Close)
	return srv.URL, func() observed { mu.Lock(); defer mu.Unlock(); return last }
}

func do(t *testing.T, method, url, body string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestHandler(t *testing.T) {
	t.Parallel()

	t.Run("PostSeesPathQueryBodyHeadersAndID", func(t *testing.T) {
		t.Parallel()
		url, last := setup(t, nethttp.Options{})
		resp, body := do(t, "POST", url+"/m/titanic/v/2/x?a=1&b=%20", `{"x":1}`,
			map[string]string{"X-Thing": "thing", "X-Request-Id": "req-1"})
		var got seen
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		want := seen{Values: []string{"titanic", "2"}, Query: "a=1&b=%20", Body: `{"x":1}`, ID: "req-1", Header: "thing", Live: true}
		if got.Query != want.Query || got.Body != want.Body || got.ID != want.ID || got.Header != want.Header ||
			len(got.Values) != 2 || got.Values[0] != "titanic" || got.Values[1] != "2" || !got.Live {
			t.Errorf("route saw %+v; want %+v", got, want)
		}
		if resp.StatusCode != http.StatusTeapot || resp.Header.Get("Retry-After") != "7" ||
			resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Wrapped") != "yes" {
			t.Errorf("answer: status %d, headers %v", resp.StatusCode, resp.Header)
		}
		if o := last(); o != (observed{"POST /m/{name}/v/{version}/x", "m", 3, 2, http.StatusTeapot}) {
			t.Errorf("observed %+v", o)
		}
	})

	t.Run("GetReadsNoBody", func(t *testing.T) {
		t.Parallel()
		url, _ := setup(t, nethttp.Options{})
		_, body := do(t, "GET", url+"/m/wine", "ignored", nil)
		var got seen
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if got.Body != "" || got.Values[0] != "wine" || got.Values[1] != "" {
			t.Errorf("route saw %+v; want no body, values [wine, \"\"]", got)
		}
	})

	t.Run("BodyOverLimitIsA413Envelope", func(t *testing.T) {
		t.Parallel()
		url, last := setup(t, nethttp.Options{MaxBody: 8})
		resp, body := do(t, "POST", url+"/m/a/v/1/x", "123456789", nil)
		var env struct {
			Error httpx.Error `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatalf("answer %q: %v", body, err)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge || env.Error.Code != "payload_too_large" {
			t.Errorf("got %d %q; want 413 payload_too_large", resp.StatusCode, body)
		}
		if o := last(); o.model != "" || o.rows != 0 || o.status != http.StatusRequestEntityTooLarge {
			t.Errorf("observed %+v; want no model, no rows, 413", o)
		}
	})

	t.Run("ErrorBodyGivesTheProtocolsForm", func(t *testing.T) {
		t.Parallel()
		url, _ := setup(t, nethttp.Options{MaxBody: 8, ErrorBody: func(path []byte, e *httpx.Error) []byte {
			return []byte(`{"error":"` + string(path) + `: ` + e.Code + `"}`)
		}})
		resp, body := do(t, "POST", url+"/m/a/v/1/x", "123456789", nil)
		if want := `{"error":"/m/a/v/1/x: payload_too_large"}`; resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != want {
			t.Errorf("got %d %q; want 413 %q", resp.StatusCode, body, want)
		}
	})
}

func TestHandlerPanicsOnABadPattern(t *testing.T) {
	t.Parallel()
	defer func() {
		if p := recover(); p == nil {
			t.Error("Handler accepted pattern PUT /x")
		}
	}()
	nethttp.Handler(serving.Route{Pattern: "PUT /x", Serve: echo}, nethttp.Options{})
}
