package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/jsonr"
	"github.com/mlserve/mlserve/internal/schema"
)

// instances is a decoded predict body: every instance's raw values by
// column, in slabs reused between requests.
type instances struct {
	cols  int
	raw   []schema.Raw // cols per instance
	given []bool
	// odd holds the instances with unknown names or decoder errors.
	odd map[int]*artifact.Fields

	cur       *artifact.Fields // the instance being read
	top       *artifact.Fields // the top-level object, when it is the instance
	topKeys   []string         // top-level keys other than "instances"
	inArray   bool             // an "instances" array was read (the last one wins)
	notArray  bool             // "instances" was not an array
	notObject int              // first element of "instances" that is not an object, or -1
	n         int              // instances read
}

// len is the number of instances.
func (in *instances) len() int { return in.n }

// fields returns instance i's values.
func (in *instances) fields(i int) *artifact.Fields {
	if f := in.odd[i]; f != nil {
		return f
	}
	return &artifact.Fields{Raw: in.raw[i*in.cols : (i+1)*in.cols], Given: in.given[i*in.cols : (i+1)*in.cols]}
}

// fieldsInto is fields without allocating: it points f at instance i.
func (in *instances) fieldsInto(i int, f *artifact.Fields) *artifact.Fields {
	if o := in.odd[i]; o != nil {
		return o
	}
	*f = artifact.Fields{Raw: in.raw[i*in.cols : (i+1)*in.cols], Given: in.given[i*in.cols : (i+1)*in.cols], Unknown: f.Unknown[:0]}
	return f
}

const nestedValue = "must be a single value (string, number, boolean or null), not an object or array"

func badBody(msg string) error {
	return httpx.Errorf(http.StatusBadRequest, "bad_request", "%s", msg)
}

// decode reads {"instances": [{…}, …]} or one {…} (null counts as {}) for
// the columns of c. The whole body is checked as JSON before any
// instance's values are judged, so that a syntax error anywhere is a 400
// bad_request; the checks and their order are those of the encoding/json
// decoder this replaces.
func (in *instances) decode(c *schema.Compiled, body string) error {
	in.cols = c.Len()
	in.raw, in.given = in.raw[:0], in.given[:0]
	clear(in.odd)
	in.topKeys = in.topKeys[:0]
	in.inArray, in.notArray, in.notObject, in.n = false, false, -1, 0
	if in.cur == nil || in.cur.Schema() != c {
		in.cur, in.top = artifact.NewFields(c), artifact.NewFields(c)
	}
	in.cur.Reset()
	in.top.Reset()
	d := jsonr.NewScanner(body)
	d.Space()
	if d.EOF() {
		return badBody(`body is empty: send {"instances": [{"column": value, …}]} or one {"column": value, …} object`)
	}
	isObject := d.Peek() == '{'
	isNull := strings.HasPrefix(d.Rest(), "null")
	var err error
	if isObject {
		err = in.topObject(&d)
	} else {
		err = d.SkipValue(0)
	}
	if err != nil {
		return badBody("body is not valid JSON: " + err.Error())
	}
	if !isObject && !isNull {
		return badBody(`body must be a JSON object: {"instances": [{"column": value, …}]} or one {"column": value, …}`)
	}
	d.Space()
	if !d.EOF() && d.Peek() != ']' && d.Peek() != '}' {
		return badBody("body has data after the JSON object")
	}
	if !in.inArray && !in.notArray {
		in.n = 0
		in.raw, in.given = in.raw[:0], in.given[:0]
		clear(in.odd)
		in.add(in.top)
		return nil
	}
	switch {
	case in.notArray:
		return badBody(`"instances" must be an array of objects`)
	case in.n == 0:
		return badBody(`"instances" is empty`)
	case in.notObject >= 0:
		name := fmt.Sprintf("instances[%d]", in.notObject)
		return &httpx.Error{Status: http.StatusBadRequest, Code: "invalid_input",
			Message: name + " must be an object of column: value", Fields: map[string]string{name: "must be an object of column: value"}}
	case len(in.topKeys) > 0:
		keys := slices.Clone(in.topKeys)
		slices.Sort(keys)
		keys = slices.Compact(keys)
		return badBody(fmt.Sprintf("unknown top-level key(s) %v next to \"instances\"", keys))
	}
	return nil
}

// add appends f's values as the next instance.
func (in *instances) add(f *artifact.Fields) {
	in.raw = append(in.raw, f.Raw...)
	in.given = append(in.given, f.Given...)
	if len(f.Unknown) > 0 || len(f.Errs) > 0 {
		if in.odd == nil {
			in.odd = map[int]*artifact.Fields{}
		}
		in.odd[in.n] = &artifact.Fields{Raw: slices.Clone(f.Raw), Given: slices.Clone(f.Given),
			Unknown: slices.Clone(f.Unknown), Errs: f.Errs}
	}
	in.n++
}

func (in *instances) topObject(d *jsonr.Scanner) error {
	return d.Object(func(key string) error {
		if key != "instances" {
			in.topKeys = append(in.topKeys, key)
			return in.member(d, in.top, key)
		}
		in.n, in.notObject = 0, -1
		in.raw, in.given = in.raw[:0], in.given[:0]
		clear(in.odd)
		if d.Peek() != '[' {
			in.inArray, in.notArray = false, true
			return d.SkipValue(1)
		}
		in.inArray, in.notArray = true, false
		return d.Array(func(i int) error {
			if d.Peek() != '{' {
				if in.notObject < 0 {
					in.notObject = i
				}
				in.n++
				in.raw = append(in.raw, in.cur.Raw...) // placeholder row
				in.given = append(in.given, in.cur.Given...)
				return d.SkipValue(2)
			}
			in.cur.Reset()
			if err := d.Object(func(key string) error { return in.member(d, in.cur, key) }, 2); err != nil {
				return err
			}
			in.add(in.cur)
			return nil
		}, 1)
	}, 0)
}

// member reads the value of key into f: a scalar is its text, null is
// missing, an object or array is an error for the key. A later duplicate
// key wins, as it does in a Go map.
func (in *instances) member(d *jsonr.Scanner, f *artifact.Fields, key string) error {
	switch c := d.Peek(); c {
	case '{', '[':
		if err := d.SkipValue(3); err != nil {
			return err
		}
		f.Fail(key, nestedValue)
		return nil
	}
	r, err := scalar(d)
	if err != nil {
		return err
	}
	delete(f.Errs, key)
	f.Set(key, r)
	return nil
}

// scalar reads a string, number, true, false or null as raw text (null is
// missing).
func scalar(d *jsonr.Scanner) (schema.Raw, error) {
	text, null, err := d.Scalar()
	return schema.Raw{Text: text, Missing: null}, err
}
