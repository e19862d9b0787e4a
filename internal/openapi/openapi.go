// Package openapi generates the OpenAPI 3 document of a deployment from its
// pipelines' schemas: every route the api and ingest roles serve, with each
// model's feature types, category values (enums), ranges and nullability in
// the predict query parameters and bodies, the Open Inference Protocol
// inputs and outputs, the ingest rows, and the error envelopes.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mlserve/mlserve/internal/oip"
	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/version"
)

// Pipeline is a configured pipeline: its name and schema.
type Pipeline struct {
	Name   string
	Schema schema.Schema
}

// Options say what the document covers.
type Options struct {
	// Pipelines in configuration order; the first is the default of GET /.
	Pipelines []Pipeline
	// API and Ingest select the roles whose routes are listed.
	API, Ingest bool
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonContent(s any) obj { return obj{"application/json": obj{"schema": s}} }

func str() obj { return obj{"type": "string"} }

func arr(items any) obj { return obj{"type": "array", "items": items} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// Generate returns the document as JSON. The pipelines' schemas must be
// valid (schema.Compile).
func Generate(o *Options) ([]byte, error) {
	g := &gen{paths: obj{}, schemas: baseSchemas(), opts: o}
	for _, p := range o.Pipelines {
		if _, err := schema.Compile(p.Schema); err != nil {
			return nil, fmt.Errorf("openapi: pipeline %s: %w", p.Name, err)
		}
		g.names = append(g.names, p.Name)
	}
	g.common()
	if o.API {
		g.api()
		g.oip()
	}
	if o.Ingest {
		g.ingest()
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "mlserve",
			"version": version.Version,
			"description": "Predictions from continuously retrained models, the model registry, the Open Inference Protocol (KServe V2) and ingest. " +
				"Errors are {\"error\": {\"code\", \"message\", \"fields\"}}; the /v2 routes answer errors as the protocol says, {\"error\": \"message\"}. " +
				"Category values also match case-insensitively and through their declared aliases.",
		},
		"paths": g.paths,
		"components": obj{
			"schemas": g.schemas,
			"securitySchemes": obj{
				"bearerAuth": obj{"type": "http", "scheme": "bearer",
					"description": "a token of `mlserve token create` (roles predict < ingest < operator < admin, optionally limited to one pipeline) or MLSERVE_ADMIN_TOKEN; 401 for no, an unknown, expired or revoked token, 403 for a role or pipeline the token does not cover. Under MLSERVE_AUTH=all the predict and read routes need one too. While MLSERVE_ADMIN_TOKEN is unset, a request without a token is let through for local clients only (a loopback peer, no proxy headers, Host localhost, an IP address or the listen address, no Origin or Sec-Fetch-Site of another origin)"},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// Handler serves a generated document.
func Handler(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write(doc)
	})
}

type gen struct {
	opts    *Options
	names   []string
	paths   obj
	schemas obj
}

func (g *gen) op(path, method string, op obj) {
	item, _ := g.paths[path].(obj)
	if item == nil {
		item = obj{}
		g.paths[path] = item
	}
	item[strings.ToLower(method)] = op
}

// errs returns responses in the error envelope for each status.
func errs(codes ...int) obj {
	out := obj{}
	for _, c := range codes {
		out[strconv.Itoa(c)] = obj{"description": http.StatusText(c), "content": jsonContent(ref("Error"))}
	}
	return out
}

// oipErrs returns responses in the protocol's error form.
func oipErrs(codes ...int) obj {
	out := obj{}
	for _, c := range codes {
		out[strconv.Itoa(c)] = obj{"description": http.StatusText(c), "content": jsonContent(ref("OIPError"))}
	}
	return out
}

func ok(desc string, s any, more obj) obj {
	out := obj{"200": obj{"description": desc, "content": jsonContent(s)}}
	for k, v := range more {
		out[k] = v
	}
	return out
}

func pathParam(name string, s obj, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": s, "description": desc}
}

func (g *gen) nameParam() obj {
	return pathParam("name", obj{"type": "string", "enum": g.names}, "pipeline (model) name")
}

func versionSchema() obj { return obj{"type": "string", "pattern": "^[1-9][0-9]*$"} }

// admin marks a write route: bearer token, or none from a local client.
func admin(op obj) obj {
	op["security"] = []any{obj{"bearerAuth": []any{}}, obj{}}
	op["responses"].(obj)["401"] = obj{"description": "missing or wrong bearer token", "content": jsonContent(ref("Error"))}
	op["responses"].(obj)["403"] = obj{"description": "no token configured and the request is not a local client's (peer not loopback, proxy headers, another Host name, a page of another origin)", "content": jsonContent(ref("Error"))}
	return op
}

func (g *gen) common() {
	g.op("/healthz", "GET", obj{"summary": "The process is alive", "operationId": "healthz", "tags": []string{"health"},
		"responses": ok("alive", object([]string{"status"}, obj{"status": str()}), nil)})
	g.op("/readyz", "GET", obj{"summary": "Every check passes (a model is loaded for every pipeline that has one)", "operationId": "readyz", "tags": []string{"health"},
		"responses": obj{
			"200": obj{"description": "ready; a failing soft check (a part the process can do without for a while) is listed under degraded",
				"content": jsonContent(object([]string{"status"}, obj{"status": obj{"type": "string", "enum": []string{"ready"}},
					"degraded": obj{"type": "object", "additionalProperties": str()}}))},
			"503": obj{"description": "not ready", "content": jsonContent(object([]string{"status", "checks"}, obj{
				"status": obj{"type": "string", "enum": []string{"not ready"}}, "checks": obj{"type": "object", "additionalProperties": str()},
				"degraded": obj{"type": "object", "additionalProperties": str()}}))},
		}})
	g.op("/metrics", "GET", obj{"summary": "Prometheus metrics", "operationId": "metrics", "tags": []string{"health"},
		"responses": obj{"200": obj{"description": "metrics in the Prometheus text format", "content": obj{"text/plain": obj{"schema": str()}}}}})
	g.op("/openapi.json", "GET", obj{"summary": "This document", "operationId": "openapi", "tags": []string{"health"},
		"responses": ok("the OpenAPI document", obj{"type": "object"}, nil)})
}

func (g *gen) api() {
	if len(g.opts.Pipelines) > 0 {
		p := g.opts.Pipelines[0]
		g.op("/", "GET", obj{
			"summary":     "The prototype's route: probability of the positive class from pipeline " + p.Name,
			"operationId": "prototype", "tags": []string{"predict"},
			"parameters": queryParams(p.Schema),
			"responses": obj{
				"200": obj{"description": "prediction", "content": jsonContent(ref("PrototypeAnswer"))},
				"400": obj{"description": "bad input; status_message maps each bad field to its rule", "content": jsonContent(ref("PrototypeAnswer"))},
				"503": obj{"description": "no production model yet", "content": jsonContent(ref("PrototypeAnswer"))},
				"500": obj{"description": "internal error", "content": jsonContent(ref("Error"))},
			},
		})
	}
	for _, p := range g.opts.Pipelines {
		g.pipelineSchemas(p)
		path := "/v1/models/" + p.Name + "/predict"
		g.op(path, "GET", obj{
			"summary": "Predict one instance of " + p.Name + " from query parameters", "operationId": "predict_get_" + p.Name,
			"tags": []string{"predict"}, "parameters": append(queryParams(p.Schema), explainQuery),
			"responses": ok("prediction", ref(p.Name+".PredictResponse"), errs(400, 500, 503)),
		})
		body := jsonContent(obj{"oneOf": []any{
			with(object([]string{"instances"}, obj{"instances": obj{"type": "array", "minItems": 1, "items": ref(p.Name + ".Instance")}}), "additionalProperties", false),
			ref(p.Name + ".Instance"),
		}})
		answer := ok("one prediction per instance, in order (JSON: all or nothing; CSV and NDJSON: row by row, a bad row with its error)",
			ref(p.Name+".PredictResponse"), errs(400, 413, 500, 503))
		for _, mt := range []string{"text/csv", "application/x-ndjson"} {
			// Rows answered in the body's format (docs/DESIGN.md §4).
			body[mt] = obj{"schema": str()}
			answer["200"].(obj)["content"].(obj)[mt] = obj{"schema": str()}
		}
		g.op(path, "POST", obj{
			"summary": "Predict a batch of " + p.Name + " instances (or one object), or CSV or NDJSON rows", "operationId": "predict_post_" + p.Name,
			"tags":        []string{"predict"},
			"parameters":  []any{explainQuery},
			"requestBody": obj{"required": true, "content": body},
			"responses":   answer,
		})
	}
	g.op("/v1/models", "GET", obj{"summary": "Every pipeline's model", "operationId": "models", "tags": []string{"registry"},
		"responses": ok("models", object([]string{"models"}, obj{"models": arr(ref("ModelInfo"))}), errs(500, 503))})
	g.op("/v1/models/{name}", "GET", obj{"summary": "A model: schema, production version, served version", "operationId": "model", "tags": []string{"registry"},
		"parameters": []any{g.nameParam()}, "responses": ok("model", ref("ModelInfo"), errs(404, 500, 503))})
	g.op("/v1/models/{name}/versions", "GET", obj{"summary": "Every version of a model", "operationId": "versions", "tags": []string{"registry"},
		"parameters": []any{g.nameParam()}, "responses": ok("versions, oldest first", object([]string{"versions"}, obj{"versions": arr(ref("Version"))}), errs(404, 500, 503))})
	vParam := pathParam("v", obj{"type": "integer", "minimum": 1}, "version")
	g.op("/v1/models/{name}/versions/{v}", "GET", obj{"summary": "A version in full: algorithm, resolved params, metrics, lineage, training statistics, feature importances or coefficients",
		"operationId": "version", "tags": []string{"registry"},
		"parameters": []any{g.nameParam(), vParam}, "responses": ok("the version", ref("VersionDetail"), errs(400, 404, 409, 500, 503))})
	g.op("/v1/models/{name}/versions/{v}/artifact", "GET", admin(obj{"summary": "Export a version's model artifact: its canonical bytes, whose sha256 is the version's artifact_sha256",
		"operationId": "artifact", "tags": []string{"registry"},
		"parameters": []any{g.nameParam(), vParam},
		"responses":  ok("the artifact (Content-Disposition names a file)", obj{"type": "object"}, errs(400, 404, 409, 500, 503))}))
	g.op("/v1/models/{name}/promotions", "GET", obj{"summary": "The promotion log of a model", "operationId": "promotions", "tags": []string{"registry"},
		"parameters": []any{g.nameParam()}, "responses": ok("promotions", object([]string{"promotions"}, obj{"promotions": arr(ref("Promotion"))}), errs(404, 500, 503))})
	reason := obj{"name": "reason", "in": "query", "schema": str(), "description": "why, for the promotion log"}
	g.op("/v1/models/{name}/versions/{v}/promote", "POST", admin(obj{"summary": "Make a version production", "operationId": "promote", "tags": []string{"registry"},
		"parameters": []any{g.nameParam(), pathParam("v", obj{"type": "integer", "minimum": 1}, "version"), reason},
		"responses":  ok("the promotion", ref("Promotion"), errs(400, 404, 409, 500, 503))}))
	g.op("/v1/models/{name}/rollback", "POST", admin(obj{"summary": "Return to the previous production version", "operationId": "rollback", "tags": []string{"registry"},
		"parameters": []any{g.nameParam(), reason},
		"responses":  ok("the promotion", ref("Promotion"), errs(404, 409, 500, 503))}))
	g.op("/v1/pipelines/{name}/runs", "POST", admin(obj{"summary": "Train now", "operationId": "train", "tags": []string{"registry"},
		"parameters": []any{g.nameParam()},
		"responses": func() obj {
			r := errs(404, 500, 503)
			r["202"] = obj{"description": "queued run", "content": jsonContent(ref("Run"))}
			return r
		}()}))
	g.op("/v1/runs", "GET", obj{"summary": "Training runs, newest first", "operationId": "runs", "tags": []string{"registry"},
		"parameters": []any{obj{"name": "pipeline", "in": "query", "schema": obj{"type": "string", "enum": g.names}}},
		"responses":  ok("runs", object([]string{"runs"}, obj{"runs": arr(ref("Run"))}), errs(404, 500, 503))})
	g.op("/v1/runs/{id}", "GET", obj{"summary": "A training run", "operationId": "run", "tags": []string{"registry"},
		"parameters": []any{pathParam("id", obj{"type": "integer", "minimum": 1}, "run id")},
		"responses":  ok("run", ref("Run"), errs(400, 404, 500, 503))})
}

func (g *gen) ingest() {
	for _, p := range g.opts.Pipelines {
		g.rowSchema(p)
		g.op("/v1/datasets/"+p.Name+"/rows", "POST", admin(obj{
			"summary":     "Append rows to " + p.Name + "; bad rows are quarantined and reported, the good ones commit together",
			"operationId": "ingest_" + p.Name, "tags": []string{"ingest"},
			"parameters": []any{obj{"name": "Idempotency-Key", "in": "header", "schema": obj{"type": "string", "maxLength": 255},
				"description": "a retry with the same key and body stores nothing twice"}},
			"requestBody": obj{"required": true, "content": obj{
				"application/json":     obj{"schema": obj{"oneOf": []any{arr(ref(p.Name + ".Row")), ref(p.Name + ".Row")}}},
				"application/x-ndjson": obj{"schema": str()},
				"text/csv":             obj{"schema": str()},
			}},
			"responses": ok("batch result", ref("IngestResult"), errs(400, 413, 415, 422, 500, 503)),
		}))
	}
	g.op("/v1/datasets/{name}/quarantine", "GET", admin(obj{"summary": "Quarantined rows, newest first: batch, line, raw row, reasons (raw user data: admin only)",
		"operationId": "quarantine", "tags": []string{"ingest"},
		"parameters": []any{g.nameParam(),
			obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "description": "rows per page"},
			obj{"name": "cursor", "in": "query", "schema": versionSchema(), "description": "next_cursor of the previous page"}},
		"responses": ok("a page of the quarantine", ref("QuarantinePage"), errs(400, 404, 500, 503))}))
	g.op("/v1/datasets/{name}/quarantine/replay", "POST", admin(obj{"summary": "Check quarantined rows against the current schema again and move the ones that now pass into a new batch, once",
		"operationId": "quarantine_replay", "tags": []string{"ingest"},
		"parameters": []any{g.nameParam()},
		"responses":  ok("what moved", ref("ReplayAnswer"), errs(404, 500, 503))}))
	g.op("/v1/datasets/{name}", "GET", obj{"summary": "A dataset's row, batch and quarantine counts", "operationId": "dataset", "tags": []string{"ingest"},
		"parameters": []any{g.nameParam()}, "responses": ok("dataset", ref("DatasetInfo"), errs(404, 500, 503))})
}

// features returns a schema's feature columns in order.
func features(s schema.Schema) []schema.Column {
	var out []schema.Column
	for _, i := range s.Features() {
		out = append(out, s.Columns[i])
	}
	return out
}

// timestampPattern is what a timestamp value looks like: an ISO 8601 date,
// optionally followed by a time (the server checks the rest).
const timestampPattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}.*)?$`

// explainQuery is the predict routes' explain parameter.
var explainQuery = obj{"name": "explain", "in": "query", "required": false, "schema": obj{"type": "string", "enum": []string{"true", "false", "1", "0"}},
	"description": "true: each prediction gets its explanation (JSON bodies and GET only)"}

// queryParams are the predict query parameters: one per feature column.
func queryParams(s schema.Schema) []any {
	var out []any
	for _, c := range features(s) {
		out = append(out, obj{"name": c.Name, "in": "query", "required": !c.Nullable, "schema": columnSchema(c, true), "description": describe(c)})
	}
	return out
}

func describe(c schema.Column) string {
	sc, err := schema.Compile(schema.Schema{Target: c.Name, Columns: []schema.Column{c, {Name: c.Name + "_", Type: schema.Number}}})
	rule := ""
	if err == nil {
		rule = sc.Rule(0)
	}
	d := fmt.Sprintf("%s column; %s", c.Type, rule)
	if len(c.Aliases) > 0 {
		keys := make([]string, 0, len(c.Aliases))
		for k := range c.Aliases {
			keys = append(keys, k+"→"+c.Aliases[k])
		}
		slices.Sort(keys)
		d += "; aliases " + strings.Join(keys, ", ")
	}
	if c.Nullable {
		d += "; may be missing (null, empty or NA)"
	}
	return d
}

// labels returns a category's accepted spellings: values then aliases.
func labels(c schema.Column) []string {
	out := slices.Clone(c.Values)
	keys := make([]string, 0, len(c.Aliases))
	for k := range c.Aliases {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// intLabels returns a category's values as integers when every one is.
func intLabels(c schema.Column) []int64 {
	var out []int64
	for _, v := range c.Values {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// columnSchema is the JSON schema of one column's value; query says the
// value is a query parameter (text), else a JSON value.
func columnSchema(c schema.Column, query bool) obj {
	var s obj
	switch c.Type {
	case schema.Number, schema.Integer:
		s = obj{"type": "number"}
		if c.Type == schema.Integer {
			s["type"] = "integer"
		}
		if c.Min != nil {
			s["minimum"] = *c.Min
		}
		if c.Max != nil {
			s["maximum"] = *c.Max
		}
	case schema.Boolean:
		s = obj{"type": "boolean"}
	case schema.Timestamp:
		// Not format: date-time, which refuses the dates and the space
		// separator the server accepts (schema.ParseTimestamp).
		s = obj{"type": "string", "pattern": timestampPattern, "example": "2024-03-01T13:45:00Z"}
	default:
		if len(c.Values) == 0 {
			s = obj{"type": "string", "minLength": 1}
			break
		}
		if c.Unknown == schema.UnknownOther {
			// Any label is accepted: the values are examples, not an enum.
			s = obj{"type": "string", "minLength": 1, "example": c.Values[0]}
		} else {
			s = obj{"type": "string", "enum": labels(c)}
		}
		if ints := intLabels(c); !query && ints != nil {
			alt := obj{"type": "integer", "enum": ints}
			if c.Unknown == schema.UnknownOther {
				alt = obj{"type": "integer"}
			}
			if c.Nullable {
				s["nullable"], alt["nullable"] = true, true
			}
			return obj{"anyOf": []any{s, alt}, "description": describe(c)}
		}
	}
	if c.Nullable {
		s["nullable"] = true
	}
	s["description"] = describe(c)
	return s
}

// pipelineSchemas adds a pipeline's Instance, PredictResponse and the
// protocol's request and response.
func (g *gen) pipelineSchemas(p Pipeline) {
	props := obj{}
	var req []string
	for _, c := range features(p.Schema) {
		props[c.Name] = columnSchema(c, false)
		if !c.Nullable {
			req = append(req, c.Name)
		}
	}
	inst := object(req, props)
	inst["additionalProperties"] = false
	inst["description"] = "one instance of " + p.Name + ": a value per feature column"
	g.schemas[p.Name+".Instance"] = inst

	target := p.Schema.Columns[p.Schema.TargetIndex()]
	var pred obj
	if regression(target) {
		pred = object([]string{"value"}, obj{"value": obj{"type": "number"}})
	} else {
		label := str()
		probs := obj{"type": "object", "additionalProperties": obj{"type": "number", "minimum": 0, "maximum": 1}}
		if len(target.Values) > 0 {
			label["enum"] = target.Values
			pp := obj{}
			for _, v := range target.Values {
				pp[v] = obj{"type": "number", "minimum": 0, "maximum": 1}
			}
			probs = object(target.Values, pp)
			probs["additionalProperties"] = false
		}
		pred = object([]string{"label", "probabilities"}, obj{"label": label, "probabilities": probs})
	}
	pred["properties"].(obj)["explanation"] = ref("Explanation")
	pred["additionalProperties"] = false
	g.schemas[p.Name+".PredictResponse"] = object([]string{"model", "version", "predictions"}, obj{
		"model": obj{"type": "string", "enum": []string{p.Name}}, "version": obj{"type": "integer", "minimum": 1},
		"predictions": arr(pred),
	})
	g.oipSchemas(p, target)
}

func regression(target schema.Column) bool {
	return target.Type == schema.Number || target.Type == schema.Integer
}

func (g *gen) rowSchema(p Pipeline) {
	props := obj{}
	var req []string
	for _, c := range p.Schema.Columns {
		s := columnSchema(c, false)
		if c.Ignore {
			s = obj{"description": "ignored column: accepted, not stored"}
		}
		props[c.Name] = s
		if !c.Nullable && !c.Ignore {
			req = append(req, c.Name)
		}
	}
	row := object(req, props)
	row["description"] = "one row of " + p.Name + "; rows that break a rule are quarantined and reported in the answer"
	g.schemas[p.Name+".Row"] = row
}

// oipSchemas adds the protocol's per-model request and response.
func (g *gen) oipSchemas(p Pipeline, target schema.Column) {
	var inputs []any
	for _, c := range features(p.Schema) {
		elem := columnSchema(c, false)
		inputs = append(inputs, object([]string{"name", "shape", "datatype", "data"}, obj{
			"name":       obj{"type": "string", "enum": []string{c.Name}},
			"shape":      obj{"type": "array", "minItems": 1, "maxItems": 2, "items": obj{"type": "integer", "minimum": 0}},
			"datatype":   obj{"type": "string", "enum": oip.Accepts(c.Type)},
			"parameters": ref("OIPParameters"),
			"data":       arr(obj{"anyOf": []any{elem, arr(elem)}}),
		}))
	}
	outNames := []string{oip.OutputLabel, oip.OutputProbabilities}
	if regression(target) {
		outNames = []string{oip.OutputValue}
	}
	g.schemas[p.Name+".InferRequest"] = object([]string{"inputs"}, obj{
		"id":         str(),
		"parameters": ref("OIPParameters"),
		"inputs": obj{"type": "array", "minItems": 1, "items": obj{"oneOf": inputs},
			"description": "one tensor per feature column, shape [n] (or [n, 1]); data flat or nested; null is a missing value"},
		"outputs": arr(object([]string{"name"}, obj{"name": obj{"type": "string", "enum": outNames}, "parameters": ref("OIPParameters")})),
	})
	tensor := func(name, dt string, data obj) obj {
		return object([]string{"name", "datatype", "shape", "data"}, obj{
			"name": obj{"type": "string", "enum": []string{name}}, "datatype": obj{"type": "string", "enum": []string{dt}},
			"shape": arr(obj{"type": "integer", "minimum": 0}), "parameters": ref("OIPParameters"), "data": arr(data),
		})
	}
	var outs []any
	if regression(target) {
		outs = []any{tensor(oip.OutputValue, oip.FP64, obj{"type": "number"})}
	} else {
		label := str()
		if len(target.Values) > 0 {
			label["enum"] = target.Values
		}
		probs := tensor(oip.OutputProbabilities, oip.FP64, obj{"type": "number", "minimum": 0, "maximum": 1})
		probs["description"] = "shape [n, classes], row-major; parameters.classes is the JSON list of class labels in column order"
		outs = []any{tensor(oip.OutputLabel, oip.BYTES, label), probs}
	}
	contrib := tensor(oip.OutputContributions, oip.FP64, obj{"type": "number"})
	contrib["description"] = "with parameters.explain true: shape [n, columns] ([n, classes, columns] for multiclass); parameters columns, base (JSON lists) and link"
	outs = append(outs, contrib)
	g.schemas[p.Name+".InferResponse"] = object([]string{"model_name", "outputs"}, obj{
		"model_name":    obj{"type": "string", "enum": []string{p.Name}},
		"model_version": versionSchema(),
		"id":            str(),
		"parameters":    ref("OIPParameters"),
		"outputs":       arr(obj{"oneOf": outs}),
	})
}

func (g *gen) oip() {
	tags := []string{"inference protocol"}
	meta := obj{"summary": "Server metadata", "tags": tags, "responses": ok("server metadata", ref("OIPServerMetadata"), nil)}
	g.op("/v2", "GET", with(meta, "operationId", "oip_server_metadata"))
	g.op("/v2/health/live", "GET", obj{"summary": "Server live", "operationId": "oip_live", "tags": tags,
		"responses": ok("live", object([]string{"live"}, obj{"live": obj{"type": "boolean"}}), nil)})
	g.op("/v2/health/ready", "GET", obj{"summary": "Server ready: every model with a production version is loaded", "operationId": "oip_ready", "tags": tags,
		"responses": obj{
			"200": obj{"description": "ready", "content": jsonContent(object([]string{"ready"}, obj{"ready": obj{"type": "boolean"}}))},
			"503": obj{"description": "not ready", "content": jsonContent(object([]string{"ready", "error"}, obj{"ready": obj{"type": "boolean"}, "error": str()}))},
		}})
	verParam := pathParam("version", versionSchema(), "any registered version")
	for _, versioned := range []bool{false, true} {
		base, params, sfx := "/v2/models/{name}", []any{g.nameParam()}, ""
		if versioned {
			base, params, sfx = base+"/versions/{version}", append(params, verParam), "_version"
		}
		g.op(base, "GET", obj{"summary": "Model metadata", "operationId": "oip_model_metadata" + sfx, "tags": tags, "parameters": params,
			"responses": ok("model metadata", ref("OIPModelMetadata"), oipErrs(404, 500, 503))})
		ready := obj{"description": "not ready (no production version yet)", "content": jsonContent(object([]string{"name", "ready"}, obj{
			"name": str(), "ready": obj{"type": "boolean"}, "error": str()}))}
		r := ok("ready", object([]string{"name", "ready"}, obj{"name": str(), "ready": obj{"type": "boolean"}}), oipErrs(404, 500))
		r["503"] = ready
		g.op(base+"/ready", "GET", obj{"summary": "Model ready", "operationId": "oip_model_ready" + sfx, "tags": tags, "parameters": params, "responses": r})
		for _, p := range g.opts.Pipelines {
			path := "/v2/models/" + p.Name + "/infer"
			var ps []any
			if versioned {
				path = "/v2/models/" + p.Name + "/versions/{version}/infer"
				ps = []any{verParam}
			}
			op := obj{"summary": "Inference with " + p.Name, "operationId": "oip_infer_" + p.Name + sfx, "tags": tags,
				"requestBody": obj{"required": true, "content": jsonContent(ref(p.Name + ".InferRequest"))},
				"responses":   ok("outputs", ref(p.Name+".InferResponse"), oipErrs(400, 404, 413, 500, 503))}
			if ps != nil {
				op["parameters"] = ps
			}
			g.op(path, "POST", op)
		}
	}
}

func with(o obj, k string, v any) obj { o[k] = v; return o }
