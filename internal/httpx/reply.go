package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Reply is the answer of a handler written without net/http, so that the
// net/http server and the fasthttp server (internal/fasthttpserver) can both
// serve it: a status, a body (JSON unless ContentType says otherwise), a
// Retry-After for some errors, and what the handler noted for the request
// metrics (see NoteModel and NotePredictions).
type Reply struct {
	Status int
	Body   []byte
	// ContentType is the body's media type; empty means application/json.
	ContentType string
	// RetryAfter, when set, becomes a Retry-After header (seconds).
	RetryAfter int
	Model      string
	Version    int
	Rows       int
}

// Reset empties rp, keeping its body's memory.
func (rp *Reply) Reset() { *rp = Reply{Body: rp.Body[:0]} }

// unencodable is the answer to a value JSON cannot carry.
const unencodable = `{"error":{"code":"internal","message":"could not encode the answer"}}` + "\n"

// SetError makes rp the error envelope of e, as WriteError writes it.
func (rp *Reply) SetError(e *Error) {
	data, err := json.Marshal(map[string]any{"error": e})
	if err != nil {
		rp.SetUnencodable()
		return
	}
	rp.Status, rp.RetryAfter, rp.Body = e.Status, e.RetryAfter, append(append(rp.Body[:0], data...), '\n')
	rp.ContentType = ""
}

// SetUnencodable makes rp the 500 of an answer that JSON cannot carry (a
// NaN from a broken model).
func (rp *Reply) SetUnencodable() {
	rp.Status, rp.RetryAfter, rp.Body = http.StatusInternalServerError, 0, append(rp.Body[:0], unencodable...)
	rp.ContentType = ""
}

var contentTypeJSON = []string{"application/json"}

// Challenge is the WWW-Authenticate header of a 401 (RFC 7235): the
// routes take bearer tokens.
const Challenge = `Bearer realm="mlserve"`

// WriteReply writes rp as the answer to r on the net/http server: it notes
// rp's model, version and rows for the request metrics, sets Retry-After
// when rp has one, and writes the status and body.
func WriteReply(w http.ResponseWriter, r *http.Request, rp *Reply) {
	if rp.Model != "" {
		NoteModel(r, rp.Model, rp.Version)
	}
	NotePredictions(r, rp.Rows)
	h := w.Header()
	if rp.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(rp.RetryAfter))
	}
	if rp.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", Challenge)
	}
	if rp.ContentType != "" {
		h.Set("Content-Type", rp.ContentType)
	} else {
		h["Content-Type"] = contentTypeJSON
	}
	w.WriteHeader(rp.Status)
	w.Write(rp.Body)
}
