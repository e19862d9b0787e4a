package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPolicy holds every Go file of the repository to the rules that keep a
// suite from silently not running: a test skips only under -short
// (testing.Short) or through this package (which fails in CI), and no test
// or test helper (a file importing testing) names a file outside the
// repository: an absolute path, or a ../ path, literal or joined from
// literals by filepath.Join, that climbs out of it (datasets are in
// internal/sampledata).
func TestPolicy(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || filepath.Dir(path) == self {
			return nil
		}
		files++
		for _, p := range violations(t, root, path) {
			t.Error(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("checked %d Go files under %s: not the repository?", files, root)
	}
}

// violations returns the rule breaches of one Go file, each naming its
// place.
func violations(t *testing.T, root, path string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	rel, _ := filepath.Rel(root, path)
	at := func(n ast.Node) string {
		p := fset.Position(n.Pos())
		return rel + ":" + strconv.Itoa(p.Line)
	}
	var out []string
	// The bodies of `if testing.Short() { … }`: a skip there is allowed.
	var short [][2]token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.IfStmt); ok && callsShort(s.Cond) {
			short = append(short, [2]token.Pos{s.Body.Pos(), s.Body.End()})
		}
		return true
	})
	isTest := strings.HasSuffix(path, "_test.go")
	for _, imp := range f.Imports {
		isTest = isTest || imp.Path.Value == `"testing"`
	}
	outside := func(n ast.Node, s string) {
		if isTest && leavesRepo(root, filepath.Dir(path), s) {
			out = append(out, at(n)+": the test names "+strconv.Quote(s)+", outside the repository: put the file in the repository (datasets: internal/sampledata)")
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "Join" {
				outside(n, joinedLiterals(n.Args))
			}
			if !ok || (sel.Sel.Name != "Skip" && sel.Sel.Name != "Skipf" && sel.Sel.Name != "SkipNow") {
				return true
			}
			for _, r := range short {
				if n.Pos() >= r[0] && n.End() <= r[1] {
					return true
				}
			}
			out = append(out, at(n)+": a skip outside `if testing.Short()`: call testenv.Missing (it fails in CI) instead")
		case *ast.BasicLit:
			if s, ok := literal(n); ok {
				outside(n, s)
			}
		}
		return true
	})
	return out
}

// literal returns the value of a string literal.
func literal(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// joinedLiterals joins the leading string literals of a Join call's
// arguments after the first ("filepath.Join(dir, "..", "..", "x")" gives
// "../../x"): a path built from a folder this file knows, such as its own.
func joinedLiterals(args []ast.Expr) string {
	var parts []string
	for i, a := range args {
		s, ok := literal(a)
		if !ok {
			if i == 0 {
				continue
			}
			break
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "/")
}

// callsShort reports whether e calls testing.Short.
func callsShort(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Short" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "testing" {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// leavesRepo reports whether the string s, in a test file of folder dir,
// names a path outside the repository at root: an absolute path under a
// machine's own folders, or a relative path that climbs above root.
func leavesRepo(root, dir, s string) bool {
	for _, top := range []string{"work", "tmp", "home", "root", "srv", "mnt"} {
		if strings.HasPrefix(s, "/"+top+"/") {
			return true
		}
	}
	if !strings.HasPrefix(s, "../") {
		return false
	}
	rel, err := filepath.Rel(root, filepath.Join(dir, s))
	return err != nil || rel == ".." || strings.HasPrefix(rel, "../")
}
