// Package store defines the database behind mlserve: datasets (typed rows in
// append-only batches, quarantined rejects), the model registry (versions,
// promotion log), training runs and leases. Backends live in subpackages
// (sqlite, postgres), write their rules once in sqlstore over a small
// dialect, and must pass the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/mlserve/mlserve/internal/schema"
)

// Sentinel errors. Backends map their own errors onto these.
var (
	// ErrNotFound: the dataset, version, run or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSchemaChanged: a pipeline's schema changed in a way its stored
	// table cannot follow (a column's type changed).
	ErrSchemaChanged = errors.New("schema changed incompatibly")
	// ErrIdempotencyMismatch: an Idempotency-Key was reused with a different
	// request body.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrConflict: a state change lost a race or is not allowed from the
	// current state (promoting a rejected version, rolling back with no
	// earlier production version).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable wraps errors that mean the database could not be
	// reached or dropped the connection (as opposed to a refused request),
	// so callers can say "the database is down" and retry.
	ErrUnavailable = errors.New("database unavailable")
	// ErrDiskFull wraps errors that mean the database's disk is full: reads
	// still work, writes fail until space is freed.
	ErrDiskFull = errors.New("disk full")
)

// Store is the database. Every method is safe for concurrent use. Methods
// that change several tables do so in one transaction: they take effect
// completely or not at all.
type Store interface {
	SpecStore  // spec.go: versioned pipeline specs
	TokenStore // token.go: scoped API tokens
	// Migrate creates or upgrades the database schema. It is idempotent and
	// safe when several processes call it at once.
	Migrate(ctx context.Context) error
	// Close releases the connections.
	Close() error

	// DatasetEnsure creates the pipeline's typed table if it does not exist
	// and records the schema. A later call with a changed schema adds new
	// columns (stored as missing for earlier rows); a changed column type
	// is ErrSchemaChanged, naming the column. Removed columns are kept in
	// the table but no longer read.
	DatasetEnsure(ctx context.Context, params *DatasetEnsureParams) error
	// DatasetInfo returns counts about a pipeline's data. ErrNotFound when
	// DatasetEnsure was never called for it.
	DatasetInfo(ctx context.Context, pipeline string) (*DatasetInfo, error)
	// BatchInsert stores one batch in one transaction: a new batch id (larger
	// than every earlier batch id of any pipeline, and batches of one
	// pipeline commit in id order), the accepted rows, the quarantined
	// rejects and, when IdempotencyKey is set, the key. If the key was
	// already used with the same RequestSHA256, nothing is written and the
	// first batch's result is returned with Replayed set; with another hash
	// the error is ErrIdempotencyMismatch.
	BatchInsert(ctx context.Context, params *BatchInsertParams) (*BatchResult, error)
	// BatchGet returns a stored batch's result, with up to maxErrors
	// quarantined rows (all when maxErrors < 0).
	BatchGet(ctx context.Context, pipeline string, batchID int64, maxErrors int) (*BatchResult, error)
	// RowsCount counts the rows of a pipeline with batch id > AfterBatch.
	RowsCount(ctx context.Context, params *RowsCountParams) (int64, error)
	// SnapshotRead reads every row with batch id <= Watermark (0 means the
	// latest committed batch) in one consistent read, ordered by batch id
	// then position in the batch. Rows committed during the read are not
	// seen.
	SnapshotRead(ctx context.Context, params *SnapshotReadParams) (*Snapshot, error)
	// QuarantineList returns quarantined rows, newest first.
	QuarantineList(ctx context.Context, params *QuarantineListParams) ([]*Reject, error)

	// VersionCreate registers a model version with the next version number
	// of its pipeline. When a version with the same RunID exists it is
	// returned unchanged (a retried run registers once).
	VersionCreate(ctx context.Context, params *VersionCreateParams) (*Version, error)
	// VersionGet returns one version.
	VersionGet(ctx context.Context, pipeline string, version int) (*Version, error)
	// VersionList returns a pipeline's versions, newest first.
	VersionList(ctx context.Context, pipeline string) ([]*Version, error)
	// VersionProduction returns a pipeline's production version, or
	// ErrNotFound.
	VersionProduction(ctx context.Context, pipeline string) (*Version, error)
	// ProductionList returns the production version of every pipeline that
	// has one.
	ProductionList(ctx context.Context) ([]*Version, error)
	// VersionReject marks a candidate version rejected with a reason.
	VersionReject(ctx context.Context, params *VersionRejectParams) (*Version, error)
	// VersionPromote makes a version production in one transaction: the
	// previous production version becomes archived and the change is written
	// to the promotion log. Promoting the current production version is
	// ErrConflict. With ExpectCurrent set, the promotion happens only if the
	// production version is still that one (0: none), else ErrConflict.
	VersionPromote(ctx context.Context, params *VersionPromoteParams) (*Promotion, error)
	// VersionRollback makes the version that was production before the
	// current one (by the promotion log, skipping earlier rollbacks)
	// production again, in one transaction, logged. ErrConflict when there
	// is none.
	VersionRollback(ctx context.Context, params *VersionRollbackParams) (*Promotion, error)
	// PromotionList returns a pipeline's promotion log, newest first.
	PromotionList(ctx context.Context, pipeline string) ([]*Promotion, error)

	// RunCreate records a queued training run. At most one run per pipeline
	// is queued: if one is, it is returned with Existing set instead.
	RunCreate(ctx context.Context, params *RunCreateParams) (*Run, error)
	// RunGet returns one run.
	RunGet(ctx context.Context, id int64) (*Run, error)
	// RunList returns runs, newest first.
	RunList(ctx context.Context, params *RunListParams) ([]*Run, error)
	// RunStart marks a run running (from queued, or again from running or
	// failed when a job is retried) and counts the attempt.
	RunStart(ctx context.Context, params *RunStartParams) (*Run, error)
	// RunFinish records a run's outcome. State RunRunning records a failed
	// attempt that will be retried: Error is set, the run stays running and
	// FinishedAt stays nil; so does State RunInterrupted (the attempt's
	// trainer stopped; the next RunStart makes it running again). A run
	// that succeeded cannot change (ErrConflict).
	RunFinish(ctx context.Context, params *RunFinishParams) (*Run, error)

	// LeaseAcquire takes or renews the named lease for holder until now+TTL.
	// It reports false when another holder has an unexpired lease.
	LeaseAcquire(ctx context.Context, params *LeaseParams) (bool, error)
	// LeaseRelease gives the lease up if holder has it.
	LeaseRelease(ctx context.Context, params *LeaseParams) error
	// LeaseGet returns the named lease as stored, expired or not (a holder
	// that died leaves its lease until another takes it), or ErrNotFound.
	LeaseGet(ctx context.Context, name string) (*Lease, error)

	GateStore
	Quarantine
}

// Change notification channels (see Notifier). The payload is the name of
// the pipeline that changed.
const (
	// ChannelRegistry signals that a pipeline's model versions changed: a
	// version was registered or rejected, promoted or rolled back.
	ChannelRegistry = "mlserve_registry"
	// ChannelBatches signals that a batch of a pipeline committed.
	ChannelBatches = "mlserve_batches"
)

// Notification is one change signal.
type Notification struct {
	Channel string
	// Payload is the pipeline name. It is empty when the listener may have
	// missed signals (after a reconnect, or when the receiver fell behind):
	// re-check everything.
	Payload string
}

// Notifier is an optional ability of a Store, found by type assertion: a
// push of changes made by any process, so that pollers can wait longer.
// Signals are hints sent after the change committed; a receiver re-reads
// the state it cares about.
type Notifier interface {
	// Listen delivers the signals of the named channels until ctx is done,
	// then closes the returned channel. It fails when it cannot start
	// listening; once started it survives lost connections, sending an
	// empty-payload Notification on each channel after it reconnects.
	Listen(ctx context.Context, channels ...string) (<-chan Notification, error)
}

// DatasetEnsureParams are the arguments of DatasetEnsure.
type DatasetEnsureParams struct {
	Pipeline string // validated pipeline name
	Schema   schema.Schema
}

// DatasetInfo describes a pipeline's stored data.
type DatasetInfo struct {
	Pipeline    string
	Rows        int64
	Batches     int64
	LastBatchID int64
	LastBatchAt *time.Time
	Quarantined int64
}

// BatchInsertParams are the arguments of BatchInsert.
type BatchInsertParams struct {
	Pipeline       string
	Schema         *schema.Compiled
	Source         string // where the rows came from: "http", "file:name.csv", "datafill"
	IdempotencyKey string // optional
	RequestSHA256  string // hash of the request body, checked on key reuse
	// Format is the body's format ("csv", "json", "ndjson"); Header is a
	// CSV body's header line as received. Both are kept with the batch so
	// that its quarantined rows can be read again (QuarantineReplay).
	Format  string
	Header  string
	Rows    []schema.Row
	Rejects []*Reject
}

// BatchResult is the outcome of a stored batch.
type BatchResult struct {
	BatchID  int64
	Accepted int64
	Rejected int64
	Errors   []*Reject
	// Replayed is true when an Idempotency-Key matched an earlier batch.
	Replayed bool
	// IgnoredColumns are the body's CSV columns the schema lacks, dropped
	// (set by the ingest service, not stored).
	IgnoredColumns []string
}

// Reject is a row that failed validation, kept with its raw text.
type Reject struct {
	// Row is the row's index in its request or file (0-based, data rows only).
	Row int
	// Line is the 1-based line of the row in its file or body, where a CSV
	// header is line 1; 0 when unknown (rows quarantined before lines were
	// kept).
	Line int
	// Raw is the row as it was received (a CSV line, a JSON object).
	Raw string
	// Fields maps a column name (or "_row" for the whole row) to the reason.
	Fields schema.FieldErrors
	// ID, BatchID and CreatedAt are set when read back.
	ID        int64
	BatchID   int64
	CreatedAt time.Time
	// ReplayedBatchID is the batch a replay moved the row into; 0 while
	// none did.
	ReplayedBatchID int64
}

// RowsCountParams are the arguments of RowsCount.
type RowsCountParams struct {
	Pipeline   string
	AfterBatch int64
}

// SnapshotReadParams are the arguments of SnapshotRead.
type SnapshotReadParams struct {
	Pipeline  string
	Schema    *schema.Compiled
	Watermark int64 // 0: the latest committed batch
}

// Snapshot is a consistent read of a pipeline's rows.
type Snapshot struct {
	// Watermark is the largest batch id included.
	Watermark int64
	// Rows in batch then position order, typed by the schema passed in;
	// columns the stored table lacks are missing.
	Rows []schema.Row
	// SHA256 is the content hash of Rows (HashRows): the same rows give the
	// same hash on every backend.
	SHA256 string
}

// QuarantineListParams are the arguments of QuarantineList.
type QuarantineListParams struct {
	Pipeline string
	BatchID  int64 // 0: any batch
	Limit    int   // 0: 100
	// Before, when not 0, lists only rows with an ID below it: the next
	// page after a row of that ID.
	Before int64
}

// VersionState is the lifecycle state of a model version.
type VersionState string

// Version states.
const (
	StateCandidate  VersionState = "candidate"
	StateProduction VersionState = "production"
	StateArchived   VersionState = "archived"
	StateRejected   VersionState = "rejected"
)

// Version is a registered model version.
type Version struct {
	Pipeline       string
	Version        int
	State          VersionState
	Algorithm      string
	Metrics        map[string]float64
	ArtifactSHA256 string
	ArtifactKey    string
	DataWatermark  int64
	DataRows       int64
	DataSHA256     string
	RunID          int64
	// SpecVersion is the pipeline spec version it was trained with (0:
	// before spec versions existed, or not made by a run).
	SpecVersion int
	// Reason says why the version is in its state (gate outcome, rollback).
	Reason    string
	CreatedAt time.Time
	// Gate is the promotion gate's comparison with production, nil when
	// none was made (see GateStore).
	Gate *Gate
	// Checks are the data checks of the run that made the version (as
	// Run.Checks; "" when none), so a warning stays with the version.
	Checks string
}

// VersionCreateParams are the arguments of VersionCreate. The version starts
// as a candidate.
type VersionCreateParams struct {
	Pipeline       string
	Algorithm      string
	Metrics        map[string]float64
	ArtifactSHA256 string
	ArtifactKey    string
	DataWatermark  int64
	DataRows       int64
	DataSHA256     string
	RunID          int64 // 0 when not made by a run
	SpecVersion    int   // the pipeline spec version trained with; 0: unknown
	// Checks: see Version.Checks.
	Checks string
}

// VersionRejectParams are the arguments of VersionReject.
type VersionRejectParams struct {
	Pipeline string
	Version  int
	Reason   string
}

// Promotion is one entry of the promotion log.
type Promotion struct {
	ID          int64
	Pipeline    string
	FromVersion int // 0: none
	ToVersion   int
	Action      string // "promote", "rollback", "auto"
	Actor       string // who or what: "gate", "cli", "api:127.0.0.1"
	Reason      string
	CreatedAt   time.Time
}

// Promotion actions.
const (
	ActionAuto     = "auto"
	ActionPromote  = "promote"
	ActionRollback = "rollback"
)

// VersionPromoteParams are the arguments of VersionPromote.
type VersionPromoteParams struct {
	Pipeline string
	Version  int
	Action   string // ActionAuto or ActionPromote
	Actor    string
	Reason   string
	// ExpectCurrent, when not nil, is the production version the caller saw
	// (0: none); the promotion fails with ErrConflict if it changed.
	ExpectCurrent *int
}

// VersionRollbackParams are the arguments of VersionRollback.
type VersionRollbackParams struct {
	Pipeline string
	Actor    string
	Reason   string
}

// RunState is the state of a training run.
type RunState string

// Run states.
const (
	RunQueued    RunState = "queued"
	RunRunning   RunState = "running"
	RunSucceeded RunState = "succeeded"
	RunFailed    RunState = "failed"
	// RunInterrupted is a run whose trainer stopped (SIGINT/SIGTERM)
	// during an attempt: its job is queued again, and the next trainer
	// to take it (another one now, or this one at its next start) runs
	// it again as running. FinishedAt stays nil.
	RunInterrupted RunState = "interrupted"
)

// Run reasons.
const (
	ReasonManual   = "manual"
	ReasonSchedule = "schedule"
	ReasonNewRows  = "new_rows"
)

// Run is a training run.
type Run struct {
	ID         int64
	Pipeline   string
	State      RunState
	Reason     string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	// Version is the version the run registered, 0 when none.
	Version        int
	ArtifactSHA256 string
	Error          string
	Attempt        int
	// DataWatermark and DataRows describe the snapshot the run read.
	DataWatermark int64
	DataRows      int64
	// SpecVersion is the pipeline spec version the run's last attempt
	// started with (0: none recorded).
	SpecVersion int
	// Message is a human note on the outcome ("promoted", "rejected: …",
	// "no new rows since version 3").
	Message string
	// SameAs is the existing version whose artifact the run reproduced
	// byte for byte (0: none); such a run registers no new version.
	SameAs int
	// Checks is the run's data checks report, a JSON list of {column,
	// check, severity, expected, seen, passed} ("" when none was made).
	Checks string
	// Existing is set by RunCreate when it returned an already queued run.
	Existing bool
}

// RunCreateParams are the arguments of RunCreate.
type RunCreateParams struct {
	Pipeline string
	Reason   string
}

// RunListParams are the arguments of RunList.
type RunListParams struct {
	Pipeline string // "" for all
	Limit    int    // 0: 50
}

// RunStartParams are the arguments of RunStart.
type RunStartParams struct {
	ID int64
	// SpecVersion is the pipeline spec version the attempt trains with.
	SpecVersion int
}

// RunFinishParams are the arguments of RunFinish.
type RunFinishParams struct {
	ID             int64
	State          RunState // RunSucceeded, RunFailed, RunRunning (attempt failed, will retry) or RunInterrupted
	Version        int
	ArtifactSHA256 string
	Error          string
	Message        string
	DataWatermark  int64
	DataRows       int64
	// SameAs: see Run.SameAs.
	SameAs int
	// Checks: see Run.Checks.
	Checks string
}

// LeaseParams are the arguments of LeaseAcquire and LeaseRelease.
type LeaseParams struct {
	Name   string // e.g. "train:titanic"
	Holder string // unique per process and job attempt
	TTL    time.Duration
}

// Lease is a stored lease (LeaseGet).
type Lease struct {
	Name      string
	Holder    string
	ExpiresAt time.Time // by the store's clock
}
