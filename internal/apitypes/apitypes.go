// Package apitypes holds the JSON shapes mlserve shows its clients: the
// answers of the registry and ingest HTTP routes and the CLI's --json
// output. They are their own types, so that a change to a database column
// is not a change to the API and internal fields (the artifact's
// object-store key, an idempotent replay) stay out of the answers. It is a
// leaf: package storeconv builds these from the store's types, one
// converter each, and pins their bytes in golden files. docs/DESIGN.md
// section 3 describes these shapes; internal/openapi describes them in the
// OpenAPI document.
package apitypes

import (
	"encoding/json"
	"time"
)

// Version is a registered model version.
type Version struct {
	Pipeline string `json:"pipeline"`
	Version  int    `json:"version"`
	// State is candidate, production, archived or rejected.
	State          string             `json:"state"`
	Algorithm      string             `json:"algorithm"`
	Metrics        map[string]float64 `json:"metrics"`
	ArtifactSHA256 string             `json:"artifact_sha256"`
	// DataWatermark, DataRows and DataSHA256 describe the snapshot the
	// version was trained on.
	DataWatermark int64  `json:"data_watermark"`
	DataRows      int64  `json:"data_rows"`
	DataSHA256    string `json:"data_sha256"`
	// RunID is the run that made the version, 0 when none did.
	RunID int64 `json:"run_id"`
	// SpecVersion is the pipeline spec version it was trained with (0:
	// made before spec versions were kept).
	SpecVersion int `json:"spec_version"`
	// Reason says why the version is in its state (gate outcome, rollback).
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	// Gate is how the promotion gate compared the version with production,
	// omitted when it did not.
	Gate *Gate `json:"gate,omitempty"`
	// Checks are the data checks of the run that made the version (as a
	// run's checks; a failed warn check stays with the version), [] when
	// none were made.
	Checks []CheckResult `json:"checks"`
}

// Gate is the promotion gate's comparison of a version with production:
// both scored on the same holdout rows and a paired bootstrap over them.
// Differences are positive when the version is better (for rmse, mae and
// log_loss, production's value minus the version's).
type Gate struct {
	Metric            string  `json:"metric"`
	Candidate         float64 `json:"candidate"`
	Production        float64 `json:"production"`
	ProductionVersion int     `json:"production_version"`
	// Basis is "same holdout", "recorded" (production's own recorded
	// metric, its schema differing; no bootstrap) or "none".
	Basis string `json:"basis"`
	Rows  int    `json:"rows"`
	// Confidence is promote.confidence (0: plain comparison).
	Confidence float64 `json:"confidence"`
	Resamples  int     `json:"resamples"`
	DiffMean   float64 `json:"diff_mean"`
	DiffP05    float64 `json:"diff_p05"`
	DiffP95    float64 `json:"diff_p95"`
	// WinShare is the share of resamples where the version was better.
	WinShare float64 `json:"win_share"`
	Promoted bool    `json:"promoted"`
}

// VersionDetail is the answer of GET /v1/models/{name}/versions/{v} and of
// `mlserve models NAME --version V --json`: the version's fields and what
// its artifact says of the model.
type VersionDetail struct {
	*Version
	// Params are the algorithm's params as resolved (defaults filled).
	Params map[string]any `json:"params"`
	// TrainingStats are the per-column statistics of the training rows
	// (counts, missing rate, mean/std or category frequencies).
	TrainingStats json.RawMessage `json:"training_stats"`
	Lineage       *Lineage        `json:"lineage"`
	// FeatureImportance maps input columns to their share of the split
	// gain (gbdt).
	FeatureImportance map[string]float64 `json:"feature_importance,omitempty"`
	// Coefficients are a linear model's weights (linear, logistic): one
	// block, or one per class for multinomial.
	Coefficients []*Coefficients `json:"coefficients,omitempty"`
}

// Lineage says how a version's artifact was made.
type Lineage struct {
	ConfigSHA256 string `json:"config_sha256"`
	Seed         int64  `json:"seed"`
	Holdout      string `json:"holdout"`
	TrainRows    int    `json:"train_rows"`
	HoldoutRows  int    `json:"holdout_rows"`
	Mlserve      string `json:"mlserve_version"`
}

// Coefficients is one block of a linear model's weights: the class it
// scores (the positive class for binary classification, "" for
// regression), its intercept and a weight per encoded feature
// (standardised; one feature per category level, "sex=female").
type Coefficients struct {
	Class     string             `json:"class"`
	Intercept float64            `json:"intercept"`
	Weights   map[string]float64 `json:"weights"`
}

// VersionList is the answer of GET /v1/models/{name}/versions and of
// `mlserve models --json`.
type VersionList struct {
	Versions []*Version `json:"versions"`
}

// Promotion is one entry of the promotion log.
type Promotion struct {
	ID          int64  `json:"id"`
	Pipeline    string `json:"pipeline"`
	FromVersion int    `json:"from_version"` // 0: none
	ToVersion   int    `json:"to_version"`
	// Action is auto, promote or rollback.
	Action    string    `json:"action"`
	Actor     string    `json:"actor"` // who or what: "gate", "cli", "api:127.0.0.1"
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// PromotionList is the answer of GET /v1/models/{name}/promotions.
type PromotionList struct {
	Promotions []*Promotion `json:"promotions"`
}

// Run is a training run.
type Run struct {
	ID       int64  `json:"id"`
	Pipeline string `json:"pipeline"`
	// State is queued, running, interrupted (its trainer stopped; it runs
	// again), succeeded or failed.
	State string `json:"state"`
	// Reason is manual, schedule or new_rows.
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// Version is the version the run registered, omitted when none.
	Version        int    `json:"version,omitempty"`
	ArtifactSHA256 string `json:"artifact_sha256"`
	Error          string `json:"error"`
	Attempt        int    `json:"attempt"`
	// DataWatermark and DataRows describe the snapshot the run read.
	DataWatermark int64 `json:"data_watermark"`
	DataRows      int64 `json:"data_rows"`
	// SpecVersion is the pipeline spec version the run trains with, set
	// when it starts (0 while queued).
	SpecVersion int `json:"spec_version"`
	// Message is a human note on the outcome ("promoted", "rejected: …",
	// "same as v1 …").
	Message string `json:"message"`
	// SameAs is the existing version whose artifact the run reproduced
	// byte for byte (it registered none), omitted when none.
	SameAs int `json:"same_as,omitempty"`
	// Checks are the run's data checks (empty when none were made: the
	// run has not started, or skipped before checking).
	Checks []CheckResult `json:"checks"`
}

// CheckResult is one data check of a run (or of `mlserve check`): the
// column ("" for the row count), the check (missing_rate, level_gone,
// new_level, psi, class_balance, row_count), its severity (block or
// warn), the expected and the seen values, and whether it passed.
type CheckResult struct {
	Column   string `json:"column"`
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Expected string `json:"expected"`
	Seen     string `json:"seen"`
	Passed   bool   `json:"passed"`
}

// CheckAnswer is the answer of `mlserve check NAME --json`: the checks of
// the current data against the production version, without training.
type CheckAnswer struct {
	Pipeline string `json:"pipeline"`
	// Rows is the number of rows checked; Baseline the production version
	// compared with (omitted when none).
	Rows     int           `json:"rows"`
	Baseline int           `json:"baseline_version,omitempty"`
	Checks   []CheckResult `json:"checks"`
	// Blocked says a block check failed: a run would fail with data_check.
	Blocked bool `json:"blocked"`
}

// RunList is the answer of GET /v1/runs and of `mlserve runs --json`.
type RunList struct {
	Runs []*Run `json:"runs"`
}

// Reject is a row that failed validation: its index in the request or file
// (0-based, data rows only), the line it starts on (1-based; a CSV header is
// line 1) and, per column (or "_row" for the whole row), the rule it broke.
type Reject struct {
	Row    int               `json:"row"`
	Line   int               `json:"line"`
	Fields map[string]string `json:"fields"`
}

// IngestAnswer is the answer of POST /v1/datasets/{name}/rows and of
// `mlserve ingest-file --json`.
type IngestAnswer struct {
	BatchID  int64     `json:"batch_id"`
	Accepted int64     `json:"accepted"`
	Rejected int64     `json:"rejected"`
	Errors   []*Reject `json:"errors"`
	// IgnoredColumns are the CSV's columns the schema lacks: dropped, not
	// stored (absent when there are none).
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
}

// CheckReport is the answer of `mlserve schema check --json`: an ingest
// answer without a batch, as nothing was stored. Its fields are in the
// order the command has always printed them.
type CheckReport struct {
	Accepted int64     `json:"accepted"`
	Errors   []*Reject `json:"errors"`
	Rejected int64     `json:"rejected"`
}

// Dataset is the answer of GET /v1/datasets/{name}.
type Dataset struct {
	Name        string     `json:"name"`
	Rows        int64      `json:"rows"`
	Batches     int64      `json:"batches"`
	LastBatchID int64      `json:"last_batch_id"`
	LastBatchAt *time.Time `json:"last_batch_at"`
	Quarantined int64      `json:"quarantined"`
}

// SpecApply is the answer of `mlserve apply --json`: per pipeline of the
// file, the spec version before and after and the fields that changed.
type SpecApply struct {
	// DryRun is true for `apply --diff`: nothing was stored.
	DryRun    bool            `json:"dry_run"`
	Pipelines []*SpecPipeline `json:"pipelines"`
}

// SpecPipeline is what apply did (or would do) to one pipeline's spec.
type SpecPipeline struct {
	Pipeline string `json:"pipeline"`
	// FromVersion is the spec version current before (0: none),
	// ToVersion the one current after (equal when unchanged).
	FromVersion int           `json:"from_version"`
	ToVersion   int           `json:"to_version"`
	Changed     bool          `json:"changed"`
	Changes     []*SpecChange `json:"changes"`
}

// SpecChange is one field that differs: its path in the pipeline file
// ("model.algorithm", "schema.columns.age.max") and its old and new
// values as text ("" when absent).
type SpecChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// QuarantinedRow is one row of a pipeline's quarantine: a rejected row
// kept with its raw text and reasons.
type QuarantinedRow struct {
	ID      int64 `json:"id"`
	BatchID int64 `json:"batch_id"`
	// Row is the 0-based index among the data rows of its body; Line the
	// 1-based line it starts on (a CSV header is line 1), 0 when unknown
	// (rows quarantined before lines were kept).
	Row  int    `json:"row"`
	Line int    `json:"line"`
	Raw  string `json:"raw"`
	// Reasons maps a column (or "_row") to the rule the row broke.
	Reasons   map[string]string `json:"reasons"`
	CreatedAt time.Time         `json:"created_at"`
	// ReplayedBatchID is the batch a replay moved the row into; null
	// while none did.
	ReplayedBatchID *int64 `json:"replayed_batch_id"`
}

// QuarantinePage is the answer of GET /v1/datasets/{name}/quarantine and
// of `mlserve quarantine NAME --json`: rows newest first.
type QuarantinePage struct {
	Rows []*QuarantinedRow `json:"rows"`
	// NextCursor, when not empty, is the cursor query parameter of the
	// next page.
	NextCursor string `json:"next_cursor"`
}

// ReplayAnswer is the answer of POST /v1/datasets/{name}/quarantine/replay
// and of `mlserve quarantine replay NAME --json`.
type ReplayAnswer struct {
	// BatchID is the new batch of the rows that now pass; 0 when none did.
	BatchID       int64 `json:"batch_id"`
	Replayed      int64 `json:"replayed"`
	StillRejected int64 `json:"still_rejected"`
}
