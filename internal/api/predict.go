package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/jsonw"
	"github.com/mlserve/mlserve/internal/ml"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/score"
	"github.com/mlserve/mlserve/internal/served"
	"github.com/mlserve/mlserve/internal/serving"
)

// The predict routes are the hot path. Each request takes the served model
// once (a swap never changes a request halfway), decodes the query or body
// straight into per-column slots of pooled scratch (no map per request),
// predicts into pooled buffers and appends its JSON answer by hand, the
// same bytes encoding/json would write. Batches are split across cores.

// PredictResponse is the answer of /v1/models/{name}/predict.
type PredictResponse struct {
	Model       string                `json:"model"`
	Version     int                   `json:"version"`
	Predictions []artifact.Prediction `json:"predictions"`
}

// scratch is one request's reusable memory.
type scratch struct {
	params []param
	args   []param // the prototype's args, sorted by name
	fields *artifact.Fields
	row    schema.Row
	out    []float64
	batch  batchScratch
}

var scratches = serving.NewPool(func(s *scratch) bool { return s.batch.size() <= 8*serving.MaxKeep })

func getScratch(m *artifact.Model) *scratch {
	s := scratches.Get()
	s.params, s.args = s.params[:0], s.args[:0]
	if m != nil {
		if s.fields == nil || s.fields.Schema() != m.Schema() {
			s.fields = artifact.NewFields(m.Schema())
		}
		s.fields.Reset()
		s.row = serving.Grow(s.row, m.Schema().Len())
		s.out = serving.Grow(s.out, m.Outputs())
	}
	return s
}

func badFields(fe schema.FieldErrors) *httpx.Error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_input", Message: "invalid input: " + fe.Error(), Fields: fe}
}

// Prototype answers the prototype's route for a raw query string into rp,
// which it resets first (ServingRoutes' GET /).
func (s *Server) Prototype(rawQuery string, rp *httpx.Reply) {
	rp.Reset()
	if len(s.pipelines) == 0 {
		rp.SetError(httpx.Errorf(http.StatusNotFound, "not_found", "no pipeline is configured"))
		return
	}
	p, sv, err := s.lookup(s.pipelines[0].Name)
	rp.Model = p.Name
	var m *artifact.Model
	if err == nil {
		m = sv.Model
		rp.Version = sv.Version.Version
	}
	sc := getScratch(m)
	defer scratches.Put(sc)
	sc.params = parseParams(sc.params, rawQuery)
	sc.args = prototypeArgs(sc.args, s.protoArgs, sc.params)
	if err != nil {
		var he *httpx.Error
		errors.As(err, &he)
		msg, _ := json.Marshal(he.Message)
		appendPrototype(rp, sc, he.Status, msg, 0, "")
		return
	}
	fieldsFromParams(sc.fields, sc.params)
	if fe := m.CoerceFields(sc.fields, sc.row); fe != nil {
		msg, _ := json.Marshal(map[string]string(fe))
		appendPrototype(rp, sc, http.StatusBadRequest, msg, 0, "")
		return
	}
	m.PredictRow(sc.row, sc.out)
	rp.Rows = 1
	label := ""
	if m.Task() == ml.Multiclass {
		label = m.Classes()[artifact.Best(sc.out)]
	}
	appendPrototype(rp, sc, http.StatusOK, []byte(`"OK"`), m.PositiveProbability(sc.out), label)
}

// prototypeArgs lists the prototype's "args": every feature column (null
// when not given) and every other parameter given, with its first value,
// sorted by name. features are sorted already, so only extra parameters
// need a sort.
func prototypeArgs(args []param, features []string, ps []param) []param {
	for _, name := range features {
		a := param{name: name, null: true}
		for _, p := range ps {
			if p.name == name {
				a = p
				break
			}
		}
		args = append(args, a)
	}
	extra := false
	for _, p := range ps {
		if !slices.Contains(features, p.name) {
			args = append(args, p)
			extra = true
		}
	}
	if extra {
		slices.SortFunc(args, func(a, b param) int { return strings.Compare(a.name, b.name) })
	}
	return args
}

// appendPrototype answers the prototype's envelope into rp; msg is the JSON
// of status_message. label, when not "", is the predicted class of a
// multiclass model (data.label), whose probability result is.
func appendPrototype(rp *httpx.Reply, sc *scratch, status int, msg []byte, result float64, label string) {
	b := append(rp.Body, `{"data":{"result":`...)
	b, ok := jsonw.Float(b, result)
	if !ok {
		rp.SetUnencodable()
		return
	}
	if label != "" {
		b = append(b, `,"label":`...)
		b = jsonw.String(b, label)
	}
	b = append(b, `},"message":{"args":{`...)
	for i, a := range sc.args {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.String(b, a.name)
		b = append(b, ':')
		if a.null {
			b = append(b, "null"...)
		} else {
			b = jsonw.String(b, a.value)
		}
	}
	b = append(b, `},"status_code":`...)
	b = jsonw.Int(b, int64(status))
	b = append(b, `,"status_message":`...)
	b = append(b, msg...)
	b = append(b, "}}\n"...)
	rp.Status, rp.Body = status, b
}

// appendPredictHead appends the start of a predict answer, up to the
// predictions array's first element.
func appendPredictHead(b []byte, sv *served.Served) []byte {
	b = append(b, `{"model":`...)
	b = jsonw.String(b, sv.Pipeline)
	b = append(b, `,"version":`...)
	b = jsonw.Int(b, int64(sv.Version.Version))
	return append(b, `,"predictions":[`...)
}

const predictTail = "]}\n"

// lookupReply is lookup for a Reply: it notes the model on rp, or makes rp
// the error.
func (s *Server) lookupReply(name string, rp *httpx.Reply) *served.Served {
	rp.Reset()
	p, sv, err := s.lookup(name)
	if p != nil {
		rp.Model = p.Name
	}
	if sv != nil {
		rp.Version = sv.Version.Version
	}
	if err != nil {
		var he *httpx.Error
		errors.As(err, &he) // lookup's errors are all *httpx.Error
		rp.SetError(he)
		return nil
	}
	return sv
}

// PredictGet answers GET /v1/models/{name}/predict for the raw query string
// into rp, which it resets first (one of ServingRoutes).
func (s *Server) PredictGet(name, rawQuery string, rp *httpx.Reply) {
	sv := s.lookupReply(name, rp)
	if sv == nil {
		return
	}
	m := sv.Model
	sc := getScratch(m)
	defer scratches.Put(sc)
	sc.params = parseParams(sc.params, rawQuery)
	var explain bool
	if rawQuery != "" {
		var he *httpx.Error
		if sc.params, explain, he = takeExplain(sc.params, m); he != nil {
			rp.SetError(he)
			return
		}
	}
	fieldsFromParams(sc.fields, sc.params)
	predictOne(sv, sc, sc.fields, explain, rp)
}

// predictOne answers the prediction of one instance's fields into rp,
// with its explanation when explain is set.
func predictOne(sv *served.Served, sc *scratch, f *artifact.Fields, explain bool, rp *httpx.Reply) {
	m := sv.Model
	if fe := m.CoerceFields(f, sc.row); fe != nil {
		rp.SetError(badFields(fe))
		return
	}
	b := appendPredictHead(rp.Body, sv)
	var ok bool
	if explain {
		var he *httpx.Error
		if b, ok, he = appendExplained(b, m, sc.row, sc.out); he != nil {
			rp.SetError(he)
			return
		}
	} else {
		m.PredictRow(sc.row, sc.out)
		b, ok = m.AppendPrediction(b, sc.out)
	}
	if !ok {
		rp.SetUnencodable()
		return
	}
	rp.Status, rp.Body, rp.Rows = http.StatusOK, append(b, predictTail...), 1
}

// PredictPost answers POST /v1/models/{name}/predict for a body read whole
// into rp, which it resets first; the caller keeps the body within the body
// limit (one of ServingRoutes). rawQuery may ask for explanations
// (explain=true).
func (s *Server) PredictPost(name, rawQuery string, body []byte, rp *httpx.Reply) {
	sv := s.lookupReply(name, rp)
	if sv == nil {
		return
	}
	m := sv.Model
	sc := getScratch(m)
	defer scratches.Put(sc)
	explain := false
	if rawQuery != "" {
		var he *httpx.Error
		sc.params = parseParams(sc.params, rawQuery)
		if _, explain, he = takeExplain(sc.params, m); he != nil {
			rp.SetError(he)
			return
		}
	}
	in := &sc.batch.in
	// One copy of the body as a string: every value read from it is a
	// substring, with no allocation of its own.
	if err := in.decode(m.Schema(), string(body)); err != nil {
		var he *httpx.Error
		if !errors.As(err, &he) {
			he = httpx.Errorf(http.StatusBadRequest, "bad_request", "%v", err)
		}
		rp.SetError(he)
		return
	}
	n := in.len()
	if n > s.maxBatch {
		rp.SetError(httpx.Errorf(http.StatusRequestEntityTooLarge, "batch_too_large",
			"%d instances is over the limit of %d per request (MLSERVE_MAX_BATCH); split the batch", n, s.maxBatch))
		return
	}
	if n == 1 {
		predictOne(sv, sc, in.fields(0), explain, rp)
		return
	}
	sc.batch.explain = explain
	sc.batch.predict(m, n)
	if fe := sc.batch.errors(); fe != nil {
		e := badFields(fe)
		e.Message += allOrNothing
		rp.SetError(e)
		return
	}
	if he := sc.batch.explainError(); he != nil {
		rp.SetError(he)
		return
	}
	if sc.batch.unencodable {
		rp.SetUnencodable()
		return
	}
	b := appendPredictHead(rp.Body, sv)
	for i := range sc.batch.chunks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, sc.batch.chunks[i].json...)
	}
	rp.Status, rp.Body, rp.Rows = http.StatusOK, append(b, predictTail...), n
}

// allOrNothing ends the message of a JSON batch with a bad instance.
const allOrNothing = " (a JSON body is answered all or nothing; send the rows as text/csv or application/x-ndjson to have the valid ones scored and each bad one's error in its answer)"

// PredictRows answers POST /v1/models/{name}/predict for a CSV or NDJSON
// body into rp, which it resets first: row by row in the body's format
// (internal/score), a row that fails validation with its error in its
// answer. A body that cannot be read as a whole (no header, a required
// column missing) is a 400, more rows than MLSERVE_MAX_BATCH a 413. The
// caller keeps the body within the body limit.
func (s *Server) PredictRows(ctx context.Context, name, rawQuery string, f score.Format, body []byte, rp *httpx.Reply) {
	sv := s.lookupReply(name, rp)
	if sv == nil {
		return
	}
	if rawQuery != "" {
		_, explain, he := takeExplain(parseParams(nil, rawQuery), sv.Model)
		if he == nil && explain {
			he = badFields(schema.FieldErrors{explainParam: "is answered for JSON bodies only; send the instances as application/json"})
		}
		if he != nil {
			rp.SetError(he)
			return
		}
	}
	sum, err := score.Stream(ctx, sv.Model, bytes.NewReader(body), (*replyWriter)(rp), score.Options{Format: f, MaxRows: s.maxBatch})
	var bad *score.BadInputError
	var many *score.TooManyRowsError
	switch {
	case errors.As(err, &bad):
		code := "bad_request"
		if bad.Fields != nil {
			code = "invalid_input"
		}
		rp.SetError(&httpx.Error{Status: http.StatusBadRequest, Code: code, Message: bad.Msg, Fields: bad.Fields})
	case errors.As(err, &many):
		rp.SetError(httpx.Errorf(http.StatusRequestEntityTooLarge, "batch_too_large",
			"more than %d rows is over the limit per request (MLSERVE_MAX_BATCH); split the rows, or score a file with `mlserve score`", s.maxBatch))
	case err != nil:
		rp.SetError(httpx.Report(ctx, s.logger, err, ""))
	default:
		rp.Status, rp.ContentType, rp.Rows = http.StatusOK, score.ContentType(f), int(sum.Rows)
	}
}

// replyWriter appends to a Reply's body.
type replyWriter httpx.Reply

func (w *replyWriter) Write(p []byte) (int, error) {
	w.Body = append(w.Body, p...)
	return len(p), nil
}

// batchMinChunk is the fewest instances per goroutine of a batch.
const batchMinChunk = 128

// batchScratch is the memory of a batch request: the decoded instances and
// one part per goroutine.
type batchScratch struct {
	in          instances
	rows        []schema.Row
	slab        []schema.Value
	x, out      []float64
	chunks      []chunk
	unencodable bool
	explain     bool // answer each prediction with its explanation
}

// chunk is one goroutine's share of a batch: its instances' field errors
// and the JSON of its predictions.
type chunk struct {
	lo, hi int
	errs   []instanceErrors
	json   []byte
	bad    bool // an output JSON cannot carry
	f      artifact.Fields
	// explainErr is why the model could not explain, with explain set.
	explainErr *httpx.Error
}

type instanceErrors struct {
	i  int
	fe schema.FieldErrors
}

// predict coerces, predicts and encodes n decoded instances, split over
// the cores the batch may have (artifact.Split: all of them when it
// runs alone, its own goroutine only under load); every instance's answer
// is what it would be alone.
func (b *batchScratch) predict(m *artifact.Model, n int) {
	cols, w, k := m.Schema().Len(), m.Width(), m.Outputs()
	b.rows = serving.Grow(b.rows, n)
	b.slab = serving.Grow(b.slab, n*cols)
	b.x = serving.Grow(b.x, n*w)
	b.out = serving.Grow(b.out, n*k)
	b.unencodable = false
	parts, size, done := artifact.Split(n, batchMinChunk)
	defer done()
	b.chunks = serving.Grow(b.chunks, parts)
	for c := range b.chunks {
		ch := &b.chunks[c]
		ch.lo, ch.hi = min(c*size, n), min((c+1)*size, n)
		ch.errs, ch.json, ch.bad, ch.explainErr = ch.errs[:0], ch.json[:0], false, nil
	}
	run := func(ch *chunk) {
		for i := ch.lo; i < ch.hi; i++ {
			b.rows[i] = b.slab[i*cols : (i+1)*cols]
			if fe := m.CoerceFields(b.in.fieldsInto(i, &ch.f), b.rows[i]); fe != nil {
				ch.errs = append(ch.errs, instanceErrors{i, fe})
			}
		}
		if len(ch.errs) > 0 {
			return
		}
		if b.explain {
			ok := true
			for i := ch.lo; i < ch.hi && ok && ch.explainErr == nil; i++ {
				if i > ch.lo {
					ch.json = append(ch.json, ',')
				}
				ch.json, ok, ch.explainErr = appendExplained(ch.json, m, b.rows[i], b.out[i*k:(i+1)*k])
			}
			ch.bad = !ok && ch.explainErr == nil
			return
		}
		m.PredictRows(b.rows[ch.lo:ch.hi], b.x[ch.lo*w:ch.hi*w], b.out[ch.lo*k:ch.hi*k])
		ok := true
		for i := ch.lo; i < ch.hi && ok; i++ {
			if i > ch.lo {
				ch.json = append(ch.json, ',')
			}
			ch.json, ok = m.AppendPrediction(ch.json, b.out[i*k:(i+1)*k])
		}
		ch.bad = !ok
	}
	var wg sync.WaitGroup
	for c := 1; c < parts; c++ {
		wg.Go(func() { run(&b.chunks[c]) })
	}
	run(&b.chunks[0])
	wg.Wait()
	for _, ch := range b.chunks {
		b.unencodable = b.unencodable || ch.bad
	}
}

// errors returns the field errors of every instance, named
// instances[i].column, or nil.
func (b *batchScratch) errors() schema.FieldErrors {
	var all schema.FieldErrors
	for _, ch := range b.chunks {
		for _, e := range ch.errs {
			if all == nil {
				all = schema.FieldErrors{}
			}
			for k, msg := range e.fe {
				all[fmt.Sprintf("instances[%d].%s", e.i, k)] = msg
			}
		}
	}
	return all
}

// explainError returns why the model could not explain, or nil.
func (b *batchScratch) explainError() *httpx.Error {
	for _, ch := range b.chunks {
		if ch.explainErr != nil {
			return ch.explainErr
		}
	}
	return nil
}

// size is the memory the batch keeps.
func (b *batchScratch) size() int {
	n := cap(b.in.raw)*32 + cap(b.slab)*40 + cap(b.x)*8 + cap(b.out)*8
	for _, ch := range b.chunks {
		n += cap(ch.json)
	}
	return n
}

// ServingRoutes are the prediction routes, written once for both engines:
// Routes mounts them on the net/http mux (internal/serving/nethttp) and
// the fasthttp server (internal/fasthttpserver) answers them without
// net/http: the prototype's GET / and GET and POST
// /v1/models/{name}/predict.
func (s *Server) ServingRoutes() []serving.Route {
	return []serving.Route{
		{Pattern: routePrototype, Serve: func(r *serving.Request, rp *httpx.Reply) {
			s.Prototype(r.RawQuery, rp)
		}},
		{Pattern: routePredictGet, Serve: func(r *serving.Request, rp *httpx.Reply) {
			s.PredictGet(r.Values[0], r.RawQuery, rp)
		}},
		{Pattern: routePredictPost, Serve: func(r *serving.Request, rp *httpx.Reply) {
			if f, ok := score.FormatOf(r.Header("Content-Type")); ok {
				s.PredictRows(r.Context, r.Values[0], r.RawQuery, f, r.Body, rp)
				return
			}
			s.PredictPost(r.Values[0], r.RawQuery, r.Body, rp)
		}},
	}
}
