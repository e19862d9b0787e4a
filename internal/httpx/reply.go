package httpx

import (
	"encoding/json"
	"net/http"
)

// Reply is the answer of a handler written without net/http, so that the
// net/http server and the fast front (internal/fastfront) can both serve
// it: a status, a JSON body and what the handler noted for the request
// metrics (see NoteModel and NotePredictions).
type Reply struct {
	Status  int
	Body    []byte
	Model   string
	Version int
	Rows    int
}

// SetError makes rp the error envelope of e, as WriteError writes it
// (without a Retry-After header).
func (rp *Reply) SetError(e *Error) {
	data, err := json.Marshal(map[string]any{"error": e})
	if err != nil {
		rp.Status, rp.Body = http.StatusInternalServerError, append(rp.Body[:0], `{"error":{"code":"internal","message":"could not encode the answer"}}`+"\n"...)
		return
	}
	rp.Status, rp.Body = e.Status, append(append(rp.Body[:0], data...), '\n')
}
