package api

import (
	"net/url"
	"strings"

	"github.com/mlserve/mlserve/internal/artifact"
	"github.com/mlserve/mlserve/internal/schema"
)

// param is one query parameter: its first value and how often it came.
type param struct {
	name, value string
	null        bool // no value: the prototype's args show null
	count       int
}

// maxFastParams is the most query parameters parseParams handles with a
// linear scan; longer queries go through url.ParseQuery's map.
const maxFastParams = 32

// parseParams appends the query's parameters to ps, by the rules of
// url.ParseQuery (pairs with a semicolon or a bad escape are dropped, as
// r.URL.Query() drops them), without a map for short queries.
func parseParams(ps []param, rawQuery string) []param {
	if strings.Count(rawQuery, "&") >= maxFastParams {
		q, _ := url.ParseQuery(rawQuery)
		for k, vs := range q {
			ps = append(ps, param{name: k, value: vs[0], count: len(vs)})
		}
		return ps
	}
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(pair, "%+") { // else there is nothing to unescape
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
			if v, err = url.QueryUnescape(v); err != nil {
				continue
			}
		}
		seen := false
		for i := range ps {
			if ps[i].name == k {
				ps[i].count++
				seen = true
				break
			}
		}
		if !seen {
			ps = append(ps, param{name: k, value: v, count: 1})
		}
	}
	return ps
}

// fieldsFromParams fills f from query parameters: each is the text of its
// column; a repeated one is an error.
func fieldsFromParams(f *artifact.Fields, ps []param) {
	for _, p := range ps {
		if p.count > 1 {
			f.Fail(p.name, "is given more than once")
			continue
		}
		f.Set(p.name, schema.Raw{Text: p.value})
	}
}
