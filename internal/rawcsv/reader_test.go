package rawcsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mlserve/mlserve/internal/sampledata"
)

// rec is the expected shape of a record in table tests.
type rec struct {
	fields []string
	raw    string
	line   int
	err    error // sentinel, or nil
}

func ok(line int, raw string, fields ...string) rec {
	return rec{fields: fields, raw: raw, line: line}
}

func bad(line int, raw string, err error) rec { return rec{raw: raw, line: line, err: err} }

// readAll reads every record of in, failing the test on a read error.
func readAll(t testing.TB, r *Reader) []Record {
	t.Helper()
	var out []Record
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		out = append(out, rec)
	}
}

func TestReader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		limit int
		want  []rec
	}{
		{name: "Empty", in: "", want: nil},
		{name: "OnlyBlankLines", in: "\n\r\n\n", want: nil},
		{name: "Simple", in: "a,b,c\n1,2,3\n", want: []rec{
			ok(1, "a,b,c", "a", "b", "c"), ok(2, "1,2,3", "1", "2", "3"),
		}},
		{name: "NoFinalNewline", in: "a,b\n1,2", want: []rec{
			ok(1, "a,b", "a", "b"), ok(2, "1,2", "1", "2"),
		}},
		{name: "CRLF", in: "a,b\r\n1,2\r\n", want: []rec{
			ok(1, "a,b", "a", "b"), ok(2, "1,2", "1", "2"),
		}},
		{name: "CRAtEnd", in: "a,b\r", want: []rec{ok(1, "a,b", "a", "b")}},
		{name: "LoneCRInside", in: "a\rb,c\n", want: []rec{ok(1, "a\rb,c", "a\rb", "c")}},
		{name: "BOM", in: "\ufeffa,b\n1,2\n", want: []rec{
			ok(1, "a,b", "a", "b"), ok(2, "1,2", "1", "2"),
		}},
		{name: "BOMOnlyFirst", in: "a\n\ufeffb\n", want: []rec{
			ok(1, "a", "a"), ok(2, "\ufeffb", "\ufeffb"),
		}},
		{name: "BlankLinesSkipped", in: "\na\n\n\r\nb\n\n", want: []rec{
			ok(2, "a", "a"), ok(5, "b", "b"),
		}},
		{name: "SpacesAreAField", in: "  \n", want: []rec{ok(1, "  ", "  ")}},
		{name: "EmptyFields", in: ",,\n", want: []rec{ok(1, ",,", "", "", "")}},
		{name: "Quoted", in: `"a,b","say ""hi""",""` + "\n", want: []rec{
			ok(1, `"a,b","say ""hi""",""`, "a,b", `say "hi"`, ""),
		}},
		{name: "QuotedMixed", in: `1,"x",3` + "\n", want: []rec{ok(1, `1,"x",3`, "1", "x", "3")}},
		{name: "QuotedNewline", in: "1,\"two\nlines\",3\n4,5,6\n", want: []rec{
			ok(1, "1,\"two\nlines\",3", "1", "two\nlines", "3"), ok(3, "4,5,6", "4", "5", "6"),
		}},
		{name: "QuotedCRLFBecomesLF", in: "\"a\r\nb\"\r\nc\r\n", want: []rec{
			ok(1, "\"a\r\nb\"", "a\nb"), ok(3, "c", "c"),
		}},
		{name: "QuotedBlankLineInside", in: "\"a\n\nb\"\n", want: []rec{ok(1, "\"a\n\nb\"", "a\n\nb")}},
		{name: "QuotedAtEOFNoNewline", in: `"a","b"`, want: []rec{ok(1, `"a","b"`, "a", "b")}},
		{name: "QuotedThenCRAtEOF", in: "\"a\"\r", want: []rec{ok(1, `"a"`, "a")}},
		{name: "BareQuote", in: "a,b\"c,d\nx,y\n", want: []rec{
			bad(1, "a,b\"c,d", ErrBareQuote), ok(2, "x,y", "x", "y"),
		}},
		{name: "SpaceBeforeQuote", in: "a, \"b\"\nx\n", want: []rec{
			bad(1, "a, \"b\"", ErrBareQuote), ok(2, "x", "x"),
		}},
		{name: "TextAfterQuote", in: "\"a\"b,c\nx,y\n", want: []rec{
			bad(1, "\"a\"b,c", ErrTextAfterQuote), ok(2, "x,y", "x", "y"),
		}},
		{name: "SpaceAfterQuote", in: "\"a\" ,c\nx\n", want: []rec{
			bad(1, "\"a\" ,c", ErrTextAfterQuote), ok(2, "x", "x"),
		}},
		{name: "UnterminatedAtEOF", in: "a,b\n1,\"oops\n3,4\n5,6", want: []rec{
			ok(1, "a,b", "a", "b"), bad(2, "1,\"oops", ErrUnterminatedQuote),
			ok(3, "3,4", "3", "4"), ok(4, "5,6", "5", "6"),
		}},
		{name: "UnterminatedLastLine", in: "a\n\"b", want: []rec{
			ok(1, "a", "a"), bad(2, "\"b", ErrUnterminatedQuote),
		}},
		{name: "UnterminatedThenValidQuotedLines", in: "\"x\n\"y\"\n\"z\",1\n", want: []rec{
			// From line 1 the field "x\n" closes at line 2's first quote,
			// which is followed by y: the first line is blamed and lines 2
			// and 3 read again.
			bad(1, "\"x", ErrUnterminatedQuote), ok(2, `"y"`, "y"), ok(3, `"z",1`, "z", "1"),
		}},
		{name: "BadQuoteOnLaterLineResyncs", in: "1,\"abc\n2,\"def\",3\n4,5,6\n", want: []rec{
			bad(1, "1,\"abc", ErrUnterminatedQuote),
			ok(2, "2,\"def\",3", "2", "def", "3"), ok(3, "4,5,6", "4", "5", "6"),
		}},
		{name: "BareQuoteOnLaterLineResyncs", in: "\"a\nb\",c\"d\ne\n", want: []rec{
			bad(1, "\"a", ErrUnterminatedQuote), bad(2, "b\",c\"d", ErrBareQuote), ok(3, "e", "e"),
		}},
		{name: "EscapedQuoteAtEOF", in: `"a""`, want: []rec{bad(1, `"a""`, ErrUnterminatedQuote)}},
		{name: "LineTooLong", in: "abcdefghij\nab\nabcdefghijklmnopqrstuvwxyz", limit: 4, want: []rec{
			bad(1, "abcd", ErrTooLong), ok(2, "ab", "ab"), bad(3, "abcd", ErrTooLong),
		}},
		{name: "LineAtLimit", in: "abcd\r\nabcd\r", limit: 4, want: []rec{
			ok(1, "abcd", "abcd"), ok(2, "abcd", "abcd"),
		}},
		{name: "QuotedRecordTooLong", in: "\"a\nbcdefgh\"\nx\n", limit: 6, want: []rec{
			bad(1, "\"a", ErrTooLong), bad(2, "bcdefg", ErrTooLong), ok(3, "x", "x"),
		}},
		{name: "Unicode", in: "é,\"ü,ß\"\n", want: []rec{ok(1, "é,\"ü,ß\"", "é", "ü,ß")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []string{"whole", "onebyte"} {
				var src io.Reader = strings.NewReader(tt.in)
				r := NewReader(src)
				if mode == "onebyte" {
					r = NewReader(iotest.OneByteReader(src))
					r.bufSize = 1
				}
				r.MaxRecordBytes = tt.limit
				got := readAll(t, r)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %d records %+v, want %d", mode, len(got), got, len(tt.want))
				}
				for i, w := range tt.want {
					g := got[i]
					if g.Raw != w.raw || g.Line != w.line || !slices.Equal(g.Fields, w.fields) {
						t.Errorf("%s: record %d: got line %d raw %q fields %q, want line %d raw %q fields %q",
							mode, i, g.Line, g.Raw, g.Fields, w.line, w.raw, w.fields)
					}
					if (w.err == nil) != (g.Err == nil) || (w.err != nil && !errors.Is(g.Err, w.err)) {
						t.Errorf("%s: record %d: got err %v, want %v", mode, i, g.Err, w.err)
					}
					var pe *ParseError
					if g.Err != nil && (!errors.As(g.Err, &pe) || pe.Line != g.Line) {
						t.Errorf("%s: record %d: err %v is not a *ParseError on line %d", mode, i, g.Err, g.Line)
					}
				}
			}
		})
	}
}

func TestReaderErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"a,b\"c\n", `line 1, column 4: bare " in unquoted field (quote the field and double the inner quote)`},
		{"x\n\"a\"b\n", `line 2, column 3: text after the closing " of a quoted field`},
		{"1,\"abc\n", "line 1, column 3: unterminated quoted field"},
		{"abcdefghijk\n", "line 1: record too long: line longer than 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			r := NewReader(strings.NewReader(tt.in))
			r.MaxRecordBytes = 10
			var msgs []string
			for _, rec := range readAll(t, r) {
				if rec.Err != nil {
					msgs = append(msgs, rec.Err.Error())
				}
			}
			if len(msgs) != 1 || msgs[0] != tt.want {
				t.Errorf("got %q, want [%q]", msgs, tt.want)
			}
		})
	}
}

func TestReaderReuseRecord(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("a,b\n\"c\",d\n"))
	r.ReuseRecord = true
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.Fields[0], first.Fields[1]
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if &first.Fields[0] != &second.Fields[0] {
		t.Errorf("ReuseRecord: the Fields slice was not reused")
	}
	if a != "a" || b != "b" || !slices.Equal(second.Fields, []string{"c", "d"}) {
		t.Errorf("got %q %q then %q; strings must survive reuse", a, b, second.Fields)
	}
}

func TestReaderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, in := range []string{"a,b\nc,d", "a,b\n\"c\nd"} {
		r := NewReader(io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom)))
		rec, err := r.Read()
		if err != nil || rec.Raw != "a,b" {
			t.Fatalf("%q: first Read = %q, %v; want the complete first line", in, rec.Raw, err)
		}
		if _, err := r.Read(); !errors.Is(err, boom) {
			t.Errorf("%q: second Read error = %v, want %v", in, err, boom)
		}
		if _, err := r.Read(); !errors.Is(err, boom) {
			t.Errorf("%q: third Read error = %v, want it sticky", in, err)
		}
	}
}

// TestReaderBufferGrowth reads records much larger than the initial buffer.
func TestReaderBufferGrowth(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300_000)
	in := "a,\"" + long + "\n" + long + "\"\n" + long + ",b\n"
	r := NewReader(strings.NewReader(in))
	got := readAll(t, r)
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("got %d records, errs %v", len(got), got)
	}
	if got[0].Fields[1] != long+"\n"+long || got[1].Fields[0] != long || got[1].Line != 3 {
		t.Errorf("fields of large records are wrong")
	}
}

// TestReaderUnterminatedLinear checks that resynchronising cannot go
// quadratic: many lines each opening a quote that never closes.
func TestReaderUnterminatedLinear(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	const n = 200_000
	for range n {
		b.WriteString("1,\"x\n")
	}
	got := readAll(t, NewReader(strings.NewReader(b.String())))
	// Line 1 opens a field that closes at line 2's quote followed by x: line
	// 1 is bad, line 2 is read again, and so on: every line is bad alone.
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	for i, rec := range got {
		if !errors.Is(rec.Err, ErrUnterminatedQuote) || rec.Line != i+1 {
			t.Fatalf("record %d: line %d err %v", i, rec.Line, rec.Err)
		}
	}
}

// checkPartition verifies that every input byte is in one record's Raw, a
// line break ending a record, or a skipped empty line, and that each
// record's Line is where its Raw starts.
func checkPartition(t *testing.T, in []byte, recs []Record, limit int) {
	t.Helper()
	in = bytes.TrimPrefix(in, []byte("\ufeff"))
	pos := 0
	line := 1
	skipBlank := func() {
		for {
			switch {
			case bytes.HasPrefix(in[pos:], []byte("\n")):
				pos++
			case bytes.HasPrefix(in[pos:], []byte("\r\n")):
				pos += 2
			case string(in[pos:]) == "\r":
				pos++
				return
			default:
				return
			}
			line++
		}
	}
	for i, rec := range recs {
		skipBlank()
		if rec.Line != line {
			t.Fatalf("record %d: Line %d, want %d", i, rec.Line, line)
		}
		if !bytes.HasPrefix(in[pos:], []byte(rec.Raw)) {
			t.Fatalf("record %d: Raw %q is not the input at byte %d: %q", i, rec.Raw, pos, in[pos:])
		}
		pos += len(rec.Raw)
		line += strings.Count(rec.Raw, "\n")
		rest := in[pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("\n")):
			pos++
		case bytes.HasPrefix(rest, []byte("\r\n")):
			pos += 2
		case string(rest) == "\r" || len(rest) == 0:
			pos = len(in)
		case errors.Is(rec.Err, ErrTooLong) && len(rec.Raw) == limit:
			// A truncated over-long line: its rest is dropped.
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				pos += j + 1
			} else {
				pos = len(in)
			}
		default:
			t.Fatalf("record %d: Raw %q is followed by %q, not a line break", i, rec.Raw, rest)
		}
		line++
	}
	skipBlank()
	if pos != len(in) {
		t.Fatalf("bytes %q after the last record are in no record", in[pos:])
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"\ufeff\"a\",\"b\"\"c\"\r\n1,\"x\ny\",3",
		"1,\"abc\n2,3\n",
		"a\"b,c\n\"a\"x\n",
		"\n\r\n\r",
		"\"\"\"\n\",\"\n",
		",,\r\r\n\"\r\n\"\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// The default limit, whole input at once.
		recs := readAll(t, NewReader(bytes.NewReader(in)))
		checkPartition(t, in, recs, DefaultMaxRecordBytes)

		// Tiny buffer, one byte per read: the same records.
		r := NewReader(iotest.OneByteReader(bytes.NewReader(in)))
		r.bufSize = 1
		r.ReuseRecord = true
		for i := 0; ; i++ {
			rec, err := r.Read()
			if err == io.EOF {
				if i != len(recs) {
					t.Fatalf("one byte at a time: %d records, want %d", i, len(recs))
				}
				break
			}
			if i >= len(recs) || rec.Raw != recs[i].Raw || rec.Line != recs[i].Line ||
				!slices.Equal(rec.Fields, recs[i].Fields) || fmt.Sprint(rec.Err) != fmt.Sprint(recs[i].Err) {
				t.Fatalf("one byte at a time: record %d differs: %+v", i, rec)
			}
		}

		// A small limit exercises the too-long paths.
		small := NewReader(bytes.NewReader(in))
		small.MaxRecordBytes = 5
		checkPartition(t, in, readAll(t, small), 5)

		// Valid CSV reads as encoding/csv reads it, and only valid CSV reads
		// without record errors.
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(in, []byte("\ufeff"))))
		cr.FieldsPerRecord = -1
		want, csvErr := cr.ReadAll()
		var firstErr error
		for _, rec := range recs {
			if rec.Err != nil {
				firstErr = rec.Err
				break
			}
		}
		if (csvErr == nil) != (firstErr == nil) {
			t.Fatalf("encoding/csv error %v, rawcsv first record error %v", csvErr, firstErr)
		}
		if csvErr != nil {
			return
		}
		if len(want) != len(recs) {
			t.Fatalf("%d records, encoding/csv %d", len(recs), len(want))
		}
		for i := range want {
			if !slices.Equal(recs[i].Fields, want[i]) {
				t.Fatalf("record %d: fields %q, encoding/csv %q", i, recs[i].Fields, want[i])
			}
		}
	})
}

// TestReaderSharedData reads the sample datasets as encoding/csv does.
func TestReaderSharedData(t *testing.T) {
	t.Parallel()
	for _, name := range sampledata.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := sampledata.Bytes(name)
			want, err := csv.NewReader(bytes.NewReader(in)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, NewReader(bytes.NewReader(in)))
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Err != nil || !slices.Equal(got[i].Fields, want[i]) || got[i].Line != i+1 {
					t.Fatalf("record %d: %+v, want %q", i, got[i], want[i])
				}
			}
			checkPartition(t, in, got, DefaultMaxRecordBytes)
		})
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line string
		want byte
	}{
		{"a,b,c\n1;2", ','},
		{"a;b;c\n", ';'},
		{"a\tb\tc", '\t'},
		{"a|b|c\r\n", '|'},
		{`"x,y";b;c`, ';'},
		{"one", ','},
		{"", ','},
	} {
		if got := Sniff([]byte(c.line)); got != c.want {
			t.Errorf("Sniff(%q) = %q; want %q", c.line, got, c.want)
		}
	}
}

func TestComma(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("a;\"b;c\";d\n1;2;3\n"))
	r.Comma = ';'
	for _, want := range [][]string{{"a", "b;c", "d"}, {"1", "2", "3"}} {
		rec, err := r.Read()
		if err != nil || rec.Err != nil || !slices.Equal(rec.Fields, want) {
			t.Fatalf("Read = %q, %v, %v; want %q", rec.Fields, rec.Err, err, want)
		}
	}
}
