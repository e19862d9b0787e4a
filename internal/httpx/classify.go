package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/mlserve/mlserve/internal/blob"
	"github.com/mlserve/mlserve/internal/registry"
	"github.com/mlserve/mlserve/internal/store"
)

// RetryAfter is the Retry-After, in seconds, of every 503 mlserve answers:
// a backend that cannot be reached, a model not served yet, a server over
// its connection or body limits. One value, so that clients back off alike
// whichever role or route answered.
const RetryAfter = 2

// ErrBadBody marks a request body the client did not send whole: broken
// framing (a malformed chunked encoding) or a connection closed before the
// body's end. It is the client's fault: 400, logged at debug level only.
var ErrBadBody = errors.New("request body could not be read")

// Classify maps err to the error a client gets, for every route of every
// role on both HTTP engines; requestID names the request in the message of
// a 500. In order:
//
//	*Error                        as is
//	*http.MaxBytesError           413 payload_too_large
//	ErrBadBody                    400 bad_body
//	context.Canceled              499 cancelled (the client went away)
//	store.ErrIdempotencyMismatch  422 idempotency_key_reused
//	store.ErrNotFound             404 not_found
//	store.ErrConflict             409 conflict
//	registry.ErrArtifactUnusable  409 artifact_unusable
//	store.ErrDiskFull             503 disk_full, Retry-After
//	store.ErrUnavailable,
//	blob.ErrUnavailable           503 unavailable, Retry-After
//	anything else                 500 internal (ours; the text stays in the log)
//
// The inference protocol (/v2) sends the same status and message in its own
// form, {"error": message}.
func Classify(err error, requestID string) *Error {
	e, _ := classify(err, requestID)
	return e
}

// quiet is the level of the errors Report does not log: answers a handler
// chose (*Error) and bodies over the limit.
const quiet = slog.LevelDebug - 1

// classify is Classify, with the level to log err at.
func classify(err error, requestID string) (*Error, slog.Level) {
	var e *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e, quiet
	case errors.As(err, &mbe):
		return BodyTooLarge(mbe.Limit), quiet
	case errors.Is(err, ErrBadBody):
		return Errorf(http.StatusBadRequest, "bad_body", "the request body could not be read: its framing is malformed or it ended early"), slog.LevelDebug
	case errors.Is(err, context.Canceled):
		return cancelled(), slog.LevelDebug
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return Errorf(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was already used for a different request body; use a new key for new rows"), slog.LevelDebug
	case errors.Is(err, store.ErrNotFound):
		return Errorf(http.StatusNotFound, "not_found", "%v", err), slog.LevelDebug
	case errors.Is(err, store.ErrConflict):
		return Errorf(http.StatusConflict, "conflict", "%v", err), slog.LevelDebug
	case errors.Is(err, registry.ErrArtifactUnusable):
		// The version exists but cannot be served; the details (keys,
		// hashes) go to the log.
		return Errorf(http.StatusConflict, "artifact_unusable",
			"the version's artifact is missing or corrupt in the object store, so it cannot be served; production is unchanged (request id %s; the server log has the details)", requestID), slog.LevelWarn
	case errors.Is(err, store.ErrDiskFull):
		return DiskFull(), slog.LevelWarn
	case errors.Is(err, blob.ErrUnavailable), errors.Is(err, store.ErrUnavailable):
		what := "the database"
		if errors.Is(err, blob.ErrUnavailable) {
			what = "the object store"
		}
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: RetryAfter,
			Message: what + " cannot be reached right now; nothing was changed: try again shortly"}, slog.LevelWarn
	}
	return Errorf(http.StatusInternalServerError, "internal", "internal error (request id %s); the server log has the details", requestID), slog.LevelError
}

func cancelled() *Error { return Errorf(499, "cancelled", "request cancelled") }

// Report is Classify for a request that failed with err: it logs err at
// the level its class calls for (our own failures at error level with their
// text, unreachable backends and unusable artifacts at warn, broken bodies
// and cancelled requests at debug, answers the handler chose and bodies
// over the limit not at all) with the request id and attrs, and returns the error
// to answer. A request whose ctx ended (the client hung up) and that failed
// on our side is answered 499: a client that went away mid-write often
// surfaces as a closed statement or an interrupted query, not
// context.Canceled.
func Report(ctx context.Context, logger *slog.Logger, err error, requestID string, attrs ...any) *Error {
	e, level := classify(err, requestID)
	if e.Status >= 500 && ctx.Err() != nil {
		e, level = cancelled(), slog.LevelDebug
	}
	if level > quiet && logger.Enabled(ctx, level) {
		// Not ctx: LogHandler would add the request id a second time.
		logger.Log(context.Background(), level, "request failed", append(attrs, "status", e.Status, "request_id", requestID, "err", err)...)
	}
	return e
}
