package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlMessage strips the "yaml: " and "line N: " prefixes from a YAML error.
func yamlMessage(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	s = strings.TrimSpace(s)
	if m := yamlLineRE.FindStringSubmatch(s); m != nil {
		return m[2]
	}
	return s
}

// syntaxError turns a YAML parse error into an Error with a line and a hint.
// The YAML library gives no line for some errors and an approximate one for
// others, so the common mistakes are located here by looking at the text.
func syntaxError(file string, data []byte, err error) *Error {
	raw := strings.TrimPrefix(err.Error(), "yaml: ")
	line, msg := 0, raw
	if m := yamlLineRE.FindStringSubmatch(raw); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := strings.Split(string(data), "\n")
	e := &Error{File: file, Line: line}
	switch {
	case strings.Contains(msg, "tab character"):
		if l := firstTabIndent(lines, line); l > 0 {
			e.Line = l
		}
		e.Msg = "this line is indented with a tab; YAML indentation must be spaces, so replace the tab with spaces"
	case strings.Contains(msg, "cannot start any token"):
		if l := firstTabIndent(lines, line); l > 0 {
			e.Line, e.Msg = l, "this line is indented with a tab; YAML indentation must be spaces, so replace the tab with spaces"
			return e
		}
		e.Msg = "a value starts with a character that YAML reserves (such as ` or @); put the value in quotes"
	case strings.Contains(msg, "did not find expected ',' or ']'"),
		strings.Contains(msg, "did not find expected ',' or '}'"),
		strings.Contains(msg, "did not find expected key"),
		strings.Contains(msg, "did not find expected node content"):
		if l, what := unbalanced(lines); l > 0 {
			e.Line, e.Msg = l, what
			return e
		}
		e.Msg = "broken list or mapping (" + msg + "); check the brackets [ ] and { } and the indentation"
	case strings.Contains(msg, "mapping values are not allowed"):
		if l := prefixLine(lines, msg); l > 0 {
			e.Line = l
		} else if l := findLine(lines, plainColonRE); l > 0 {
			e.Line = l
		}
		e.Msg = "a value contains \": \", which YAML reads as a nested mapping; put the value in quotes"
	case strings.Contains(msg, "did not find expected alphabetic or numeric character"),
		strings.Contains(msg, "unknown anchor"):
		if l := findLine(lines, aliasValueRE); l > 0 {
			e.Line = l
		}
		e.Msg = "a value starts with * or &, which YAML reads as an alias or anchor; put the value in quotes, e.g. schedule: \"* * * * *\""
	case strings.Contains(msg, "found unexpected end of stream"):
		if l := unclosedQuote(lines); l > 0 {
			e.Line = l
		}
		e.Msg = "a quoted value is not closed; add the closing quote"
	case strings.Contains(msg, "did not find expected '-' indicator"),
		strings.Contains(msg, "did not find expected <document start>"),
		strings.Contains(msg, "could not find expected ':'"):
		if l := prefixLine(lines, msg); l > 0 {
			e.Line = l
		}
		e.Msg = "the indentation does not line up (" + msg + "); items of one list or mapping must start in the same column"
	case strings.Contains(msg, "control characters are not allowed"),
		strings.Contains(msg, "invalid leading UTF-8 octet"),
		strings.Contains(msg, "incomplete UTF-8 octet sequence"),
		strings.Contains(msg, "invalid trailing UTF-8 octet"):
		e.Msg = "the file is not UTF-8 text (" + msg + "); save it as UTF-8"
	default:
		if l := prefixLine(lines, msg); l > 0 {
			e.Line = l
		}
		e.Msg = "invalid YAML: " + msg
	}
	return e
}

// prefixLine finds the line of a YAML error whose reported line is missing
// or approximate: the first line k such that the first k lines alone fail
// with the same message. Each prefix of whole lines of a block document
// parses until the broken line is in it.
func prefixLine(lines []string, msg string) int {
	if len(lines) > 2000 {
		return 0
	}
	for k := 1; k <= len(lines); k++ {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(strings.Join(lines[:k], "\n")), &n)
		if err != nil && yamlMessage(err) == msg {
			return k
		}
	}
	return 0
}

var (
	// key: value: more, with the value unquoted.
	plainColonRE = regexp.MustCompile(`^\s*(?:- )?[\w.-]+:\s+[^'"\s{\[|>#][^#]*:(?:\s|$)`)
	// key: *x or - *x, or &x followed by a space.
	aliasValueRE = regexp.MustCompile(`^\s*(?:- )?(?:[\w.-]+:\s+)?[*&]`)
)

func findLine(lines []string, re *regexp.Regexp) int {
	for i, l := range lines {
		if re.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

// firstTabIndent returns the line indented with a tab, preferring near.
func firstTabIndent(lines []string, near int) int {
	hasTab := func(l string) bool {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		return strings.Contains(indent, "\t")
	}
	if near >= 1 && near <= len(lines) && hasTab(lines[near-1]) {
		return near
	}
	for i, l := range lines {
		if hasTab(l) && strings.TrimSpace(l) != "" {
			return i + 1
		}
	}
	return 0
}

// unbalanced finds the first flow bracket that is not closed or a closer
// without its opener, skipping quoted text and comments. It returns the
// line and a message.
func unbalanced(lines []string) (int, string) {
	type open struct {
		ch   byte
		line int
	}
	var stack []open
	for i, l := range lines {
		var quote byte
		valueStart := true // at the start of a block value, where [ or { opens a flow collection
		for j := 0; j < len(l); j++ {
			c := l[j]
			if quote != 0 {
				if c == quote {
					if quote == '\'' && j+1 < len(l) && l[j+1] == '\'' {
						j++
						continue
					}
					quote = 0
				} else if c == '\\' && quote == '"' {
					j++
				}
				continue
			}
			switch {
			case c == '#' && (j == 0 || l[j-1] == ' ' || l[j-1] == '\t'):
				j = len(l)
			case (c == '\'' || c == '"') && (len(stack) > 0 || valueStart):
				quote = c
			case (c == '[' || c == '{') && (len(stack) > 0 || valueStart):
				stack = append(stack, open{c, i + 1})
			case (c == ']' || c == '}') && len(stack) > 0:
				top := stack[len(stack)-1]
				want := byte(']')
				if top.ch == '{' {
					want = '}'
				}
				if c != want {
					return top.line, fmt.Sprintf("%c opened on this line is closed by %c; close it with %c", top.ch, c, want)
				}
				stack = stack[:len(stack)-1]
			case (c == ']' || c == '}') && valueStart:
				return i + 1, fmt.Sprintf("%c closes nothing; remove it or add the matching opener", c)
			}
			switch {
			case c == ' ' || c == '\t':
				// spaces keep valueStart as it is
			case c == ':' || c == '-' || c == ',' || c == '[' || c == '{':
				valueStart = c == ':' || c == '-' || len(stack) > 0
			case c == ']' || c == '}':
				valueStart = true // only a comment may follow a closed flow collection
			default:
				valueStart = false
			}
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		closer := byte(']')
		if top.ch == '{' {
			closer = '}'
		}
		return top.line, fmt.Sprintf("%c opened on this line is never closed; add %c where it ends", top.ch, closer)
	}
	return 0, ""
}

// unclosedQuote returns the line of the last quote that opens a value and
// is not closed on its line.
func unclosedQuote(lines []string) int {
	last := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if k := strings.Index(t, ": "); k >= 0 {
			t = strings.TrimSpace(t[k+2:])
		} else {
			t = strings.TrimPrefix(t, "- ")
		}
		if len(t) > 0 && (t[0] == '"' || t[0] == '\'') && strings.Count(t, t[:1]) == 1 {
			last = i + 1
		}
	}
	return last
}
