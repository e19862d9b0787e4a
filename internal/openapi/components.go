package openapi

// nullable returns s allowing null.
func nullable(s obj) obj { s["nullable"] = true; return s }

func integer() obj { return obj{"type": "integer"} }

func number() obj { return obj{"type": "number"} }

func dateTime() obj { return obj{"type": "string", "format": "date-time"} }

// baseSchemas are the components every document has: envelopes and the
// registry's and ingest's shapes.
func baseSchemas() obj {
	stringMap := func() obj { return obj{"type": "object", "additionalProperties": str()} }
	return obj{
		"Error": object([]string{"error"}, obj{"error": object([]string{"code", "message"}, obj{
			"code":    obj{"type": "string", "description": "stable code to branch on (invalid_input, not_found, no_model, …)"},
			"message": str(),
			"fields":  with(stringMap(), "description", "for bad input: field (column) to the rule it broke"),
		})}),
		"Explanation": with(object([]string{"base", "contributions", "link"}, obj{
			"base": obj{"anyOf": []any{number(), obj{"type": "object", "additionalProperties": number()}},
				"description": "the base raw score; multiclass: per class"},
			"contributions": obj{"type": "object", "additionalProperties": obj{"anyOf": []any{number(), obj{"type": "object", "additionalProperties": number()}}},
				"description": "input column to its contribution to the raw score; multiclass: class to {column: contribution}"},
			"link": obj{"type": "string", "enum": []string{"logit", "softmax", "identity"}},
		}), "description", "with explain=true: base + the contributions = the raw score (binary: log-odds of the second class; regression: the value)"),
		"OIPError":      object([]string{"error"}, obj{"error": str()}),
		"OIPParameters": obj{"type": "object", "additionalProperties": obj{"anyOf": []any{str(), number(), obj{"type": "boolean"}}}},
		"OIPServerMetadata": object([]string{"name", "version", "extensions"}, obj{
			"name": str(), "version": str(), "extensions": arr(str()),
		}),
		"OIPModelMetadata": object([]string{"name", "platform", "inputs", "outputs"}, obj{
			"name": str(), "versions": arr(str()), "platform": str(),
			"inputs": arr(ref("OIPTensorMetadata")), "outputs": arr(ref("OIPTensorMetadata")),
		}),
		"OIPTensorMetadata": object([]string{"name", "datatype", "shape"}, obj{
			"name": str(), "datatype": obj{"type": "string", "enum": []string{"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"}},
			"shape": arr(obj{"type": "integer", "minimum": -1}),
		}),
		"PrototypeAnswer": object([]string{"data", "message"}, obj{
			"data": object([]string{"result"}, obj{"result": number()}),
			"message": object([]string{"status_code", "status_message", "args"}, obj{
				"status_code":    integer(),
				"status_message": obj{"oneOf": []any{str(), stringMap()}, "description": "OK, or field to rule for bad input"},
				"args":           obj{"type": "object", "additionalProperties": obj{"type": "string", "nullable": true}},
			}),
		}),
		"Column": object([]string{"name", "type"}, obj{
			"name": str(), "type": obj{"type": "string", "enum": []string{"number", "integer", "category", "boolean", "timestamp"}},
			"values": arr(str()), "aliases": stringMap(), "unknown": obj{"type": "string", "enum": []string{"reject", "other"}},
			"min": number(), "max": number(),
			"nullable": obj{"type": "boolean"}, "ignore": obj{"type": "boolean"},
		}),
		"Schema":        object([]string{"target", "columns"}, obj{"target": str(), "columns": arr(ref("Column"))}),
		"Version":       versionComponent(),
		"VersionDetail": versionDetailComponent(),
		"Gate": object([]string{"metric", "candidate", "production", "production_version", "basis", "confidence", "promoted"}, obj{
			"metric": str(), "candidate": number(), "production": number(), "production_version": integer(),
			"basis": obj{"type": "string", "enum": []string{"same holdout", "recorded", "none"}},
			"rows":  integer(), "confidence": number(), "resamples": integer(),
			"diff_mean": number(), "diff_p05": number(), "diff_p95": number(), "win_share": number(),
			"promoted": obj{"type": "boolean"},
		}),
		"ModelInfo": object([]string{"name", "production_version", "production", "served_version"}, obj{
			"name": str(), "task": obj{"type": "string", "enum": []string{"binary", "multiclass", "regression"}},
			"schema":             ref("Schema"),
			"production_version": nullable(integer()),
			"production":         obj{"allOf": []any{ref("Version")}, "nullable": true},
			"served_version":     nullable(integer()),
			"feature_importance": obj{"type": "object", "additionalProperties": number()},
			"params":             obj{"type": "object"},
		}),
		"Promotion": object([]string{"id", "pipeline", "to_version", "action", "created_at"}, obj{
			"id": integer(), "pipeline": str(), "from_version": integer(), "to_version": integer(),
			"action": obj{"type": "string", "enum": []string{"auto", "promote", "rollback"}},
			"actor":  str(), "reason": str(), "created_at": dateTime(),
		}),
		"Run": object([]string{"id", "pipeline", "state", "reason", "created_at"}, obj{
			"id": integer(), "pipeline": str(),
			"state":      obj{"type": "string", "enum": []string{"queued", "running", "interrupted", "succeeded", "failed"}},
			"reason":     obj{"type": "string", "enum": []string{"manual", "schedule", "new_rows"}},
			"created_at": dateTime(), "started_at": nullable(dateTime()), "finished_at": nullable(dateTime()),
			"version": integer(), "artifact_sha256": str(), "error": str(), "attempt": integer(),
			"data_watermark": integer(), "data_rows": integer(), "spec_version": integer(), "message": str(), "same_as": integer(),
			"checks": nullable(arr(ref("CheckResult"))),
		}),
		"CheckResult": object([]string{"column", "check", "severity", "expected", "seen", "passed"}, obj{
			"column": str(), "check": str(),
			"severity": obj{"type": "string", "enum": []string{"block", "warn"}},
			"expected": str(), "seen": str(), "passed": obj{"type": "boolean"},
		}),
		"IngestResult": object([]string{"batch_id", "accepted", "rejected", "errors"}, obj{
			"batch_id": integer(), "accepted": integer(), "rejected": integer(),
			"errors":          nullable(arr(object([]string{"row", "line", "fields"}, obj{"row": integer(), "line": with(integer(), "description", "1-based line in the body; a CSV header is line 1"), "fields": stringMap()}))),
			"ignored_columns": nullable(arr(str())),
		}),
		"QuarantinedRow": object([]string{"id", "batch_id", "row", "line", "raw", "reasons", "created_at", "replayed_batch_id"}, obj{
			"id": integer(), "batch_id": integer(), "row": integer(),
			"line":              with(integer(), "description", "1-based line in its body or file (a CSV header is line 1); 0 when unknown"),
			"raw":               with(str(), "description", "the row as received: a CSV record or a JSON object"),
			"reasons":           with(stringMap(), "description", "column (or _row) to the rule the row broke"),
			"created_at":        dateTime(),
			"replayed_batch_id": with(nullable(integer()), "description", "the batch a replay moved the row into; null while none did"),
		}),
		"QuarantinePage": object([]string{"rows", "next_cursor"}, obj{
			"rows":        nullable(arr(ref("QuarantinedRow"))),
			"next_cursor": with(str(), "description", "the cursor of the next page; empty on the last page"),
		}),
		"ReplayAnswer": object([]string{"batch_id", "replayed", "still_rejected"}, obj{
			"batch_id": with(integer(), "description", "the new batch of the rows that now pass; 0 when none did"),
			"replayed": integer(), "still_rejected": integer(),
		}),
		"DatasetInfo": object([]string{"name", "rows", "batches"}, obj{
			"name": str(), "rows": integer(), "batches": integer(), "last_batch_id": integer(),
			"last_batch_at": nullable(dateTime()), "quarantined": integer(),
		}),
	}
}

// versionComponent is a registered model version.
func versionComponent() obj {
	return object([]string{"pipeline", "version", "state", "metrics", "artifact_sha256", "created_at"}, obj{
		"pipeline": str(), "version": integer(),
		"state":     obj{"type": "string", "enum": []string{"candidate", "production", "archived", "rejected"}},
		"algorithm": str(), "metrics": obj{"type": "object", "additionalProperties": number()},
		"artifact_sha256": str(), "data_watermark": integer(), "data_rows": integer(),
		"data_sha256": str(), "run_id": integer(), "spec_version": integer(), "reason": str(), "created_at": dateTime(),
		"gate":   obj{"allOf": []any{ref("Gate")}, "nullable": true},
		"checks": nullable(arr(ref("CheckResult"))),
	})
}

// versionDetailComponent is a version with what its artifact says of the
// model: Version's properties and the detail's own.
func versionDetailComponent() obj {
	v := versionComponent()
	props := obj{}
	for k, x := range v["properties"].(obj) {
		props[k] = x
	}
	number := func() obj { return obj{"type": "number"} }
	props["params"] = with(obj{"type": "object"}, "description", "the algorithm's params as resolved (defaults filled)")
	props["training_stats"] = with(nullable(arr(obj{"type": "object"})), "description", "per-column statistics of the training rows")
	props["lineage"] = nullable(object(nil, obj{
		"config_sha256": str(), "seed": integer(), "holdout": str(), "train_rows": integer(), "holdout_rows": integer(), "mlserve_version": str(),
	}))
	props["feature_importance"] = with(obj{"type": "object", "additionalProperties": number()}, "description", "gbdt: each input column's share of the split gain")
	props["coefficients"] = with(nullable(arr(object([]string{"class", "intercept", "weights"}, obj{
		"class": str(), "intercept": number(), "weights": obj{"type": "object", "additionalProperties": number()},
	}))), "description", "linear, logistic: weights on the standardised encoded features, one block (one per class for multinomial)")
	v["properties"] = props
	v["required"] = append(v["required"].([]string), "params", "training_stats", "lineage")
	return v
}
