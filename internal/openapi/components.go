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
		"Schema": object([]string{"target", "columns"}, obj{"target": str(), "columns": arr(ref("Column"))}),
		"Version": object([]string{"pipeline", "version", "state", "metrics", "artifact_sha256", "created_at"}, obj{
			"pipeline": str(), "version": integer(),
			"state":     obj{"type": "string", "enum": []string{"candidate", "production", "archived", "rejected"}},
			"algorithm": str(), "metrics": obj{"type": "object", "additionalProperties": number()},
			"artifact_sha256": str(), "data_watermark": integer(), "data_rows": integer(),
			"data_sha256": str(), "run_id": integer(), "spec_version": integer(), "reason": str(), "created_at": dateTime(),
			"gate": obj{"allOf": []any{ref("Gate")}, "nullable": true},
		}),
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
			"state":      obj{"type": "string", "enum": []string{"queued", "running", "succeeded", "failed"}},
			"reason":     obj{"type": "string", "enum": []string{"manual", "schedule", "new_rows"}},
			"created_at": dateTime(), "started_at": nullable(dateTime()), "finished_at": nullable(dateTime()),
			"version": integer(), "artifact_sha256": str(), "error": str(), "attempt": integer(),
			"data_watermark": integer(), "data_rows": integer(), "spec_version": integer(), "message": str(), "same_as": integer(),
		}),
		"IngestResult": object([]string{"batch_id", "accepted", "rejected", "errors"}, obj{
			"batch_id": integer(), "accepted": integer(), "rejected": integer(),
			"errors": nullable(arr(object([]string{"row", "fields"}, obj{"row": integer(), "fields": stringMap()}))),
		}),
		"DatasetInfo": object([]string{"name", "rows", "batches"}, obj{
			"name": str(), "rows": integer(), "batches": integer(), "last_batch_id": integer(),
			"last_batch_at": nullable(dateTime()), "quarantined": integer(),
		}),
	}
}
