// Package sampledata holds the small public datasets the tests train,
// ingest and serve (README.md says where each comes from and under which
// terms), so that every test reads them from the repository: a fresh clone
// runs every suite. Tests read a dataset's bytes with Bytes, or hand a
// process its file with Path.
package sampledata

import (
	"embed"
	"fmt"
	"path/filepath"
	"runtime"
)

// The datasets, by file name.
const (
	// SeedTitanic is the prototype's seed data: titanic's survived, class
	// (pclass), sex, age and embarked, 891 rows.
	SeedTitanic = "seed_titanic.csv"
	// Titanic is seaborn-data's titanic, 891 rows of 15 columns.
	Titanic = "titanic.csv"
	// Iris is Fisher's iris, 150 rows.
	Iris = "iris.csv"
	// Tips is Bryant and Smith's restaurant tips, 244 rows.
	Tips = "tips.csv"
	// BreastCancer is scikit-learn's Wisconsin diagnostic breast cancer
	// data, 569 rows of 30 features and diagnosis (malignant/benign).
	BreastCancer = "breast_cancer.csv"
	// Diabetes is scikit-learn's diabetes data, raw (unscaled): 442 rows
	// of 10 features and progression (a number).
	Diabetes = "diabetes.csv"
	// Wine is scikit-learn's wine data: 178 rows of 13 features and
	// cultivar (class_0, class_1, class_2).
	Wine = "wine.csv"
)

//go:embed *.csv
var files embed.FS

// Names returns the file names of every dataset.
func Names() []string {
	return []string{SeedTitanic, Titanic, Iris, Tips, BreastCancer, Diabetes, Wine}
}

// Bytes returns the content of the dataset name (one of the constants) in a
// slice of its own. An unknown name is a programmer error: it panics.
func Bytes(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("sampledata: no dataset %q: %v", name, err))
	}
	return b
}

// Dir returns the absolute path of the folder holding the dataset files,
// for tests that pass a file to a process. It is where this package's
// source was compiled from, so it panics in a test binary built with
// -trimpath, where that path is unknown.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		panic(fmt.Sprintf("sampledata: the source folder is unknown (compiled as %q; built with -trimpath?)", file))
	}
	return filepath.Dir(file)
}

// Path returns the absolute path of the dataset name (one of the
// constants); it panics, as Bytes does, on an unknown name.
func Path(name string) string {
	Bytes(name)
	return filepath.Join(Dir(), name)
}
