package sampledata

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFiles checks that each dataset's embedded bytes are the file at Path
// and are the bytes README.md names (the tests' expected numbers depend on
// them), and that every CSV in the folder is listed.
func TestFiles(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		sha256 string
		rows   int // records after the header
	}{
		SeedTitanic:  {"c3159ca4ca9140c3bdbe6b784a8b5ed6ac791d95159a871f052feb8163875cd9", 891},
		Titanic:      {"81787d320d7f7b03df935e91de8bd19e11d45c5bbcab86ef4d4a76dc91b7d4f2", 891},
		Iris:         {"9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355", 150},
		Tips:         {"e54cc4d2ce1bff65d32ca60b3e4b802e06bde1d7e7caf6f796f6bf7370e863b0", 244},
		BreastCancer: {"7e115a871fc47b0002ff74842ddb6b61b08baf51b137f171c34af4d053c0b081", 569},
		Diabetes:     {"10d35e5b3fe6855244175482756c09af0e0026de373e6199dac1b6b41c25d829", 442},
		Wine:         {"9823017997cff0e628fbc81e9fc0867152879a6799a5068b03b508f8ea30a052", 178},
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := Bytes(name)
			onDisk, err := os.ReadFile(Path(name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, onDisk) {
				t.Errorf("embedded %s differs from %s", name, Path(name))
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != want[name].sha256 {
				t.Errorf("sha256 %s, want %s (README.md): the tests' expectations were made on those bytes", got, want[name].sha256)
			}
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(recs) - 1; got != want[name].rows {
				t.Errorf("%d rows, want %d", got, want[name].rows)
			}
		})
	}
	onDisk, err := filepath.Glob(filepath.Join(Dir(), "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range onDisk {
		onDisk[i] = filepath.Base(onDisk[i])
	}
	listed := slices.Sorted(slices.Values(Names()))
	if !slices.Equal(onDisk, listed) {
		t.Errorf("CSV files %v, Names %v", onDisk, listed)
	}
}

// TestSeedIsTitanic checks README.md's account of the seed file: titanic's
// survived, pclass (as class), sex, age and embarked, row for row.
func TestSeedIsTitanic(t *testing.T) {
	t.Parallel()
	read := func(name string) [][]string {
		recs, err := csv.NewReader(bytes.NewReader(Bytes(name))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	seed, full := read(SeedTitanic), read(Titanic)
	if want := []string{"survived", "class", "sex", "age", "embarked"}; !slices.Equal(seed[0], want) {
		t.Fatalf("seed header %q, want %q", seed[0], want)
	}
	col := func(name string) int {
		i := slices.Index(full[0], name)
		if i < 0 {
			t.Fatalf("titanic has no column %s", name)
		}
		return i
	}
	from := []int{col("survived"), col("pclass"), col("sex"), col("age"), col("embarked")}
	if len(seed) != len(full) {
		t.Fatalf("seed has %d records, titanic %d", len(seed), len(full))
	}
	for i := 1; i < len(seed); i++ {
		for j, c := range from {
			if seed[i][j] != full[i][c] {
				t.Fatalf("row %d: seed %s=%q, titanic %s=%q", i, seed[0][j], seed[i][j], full[0][c], full[i][c])
			}
		}
	}
}

func TestUnknownNamePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Bytes of an unknown name did not panic")
		}
	}()
	Bytes("nonexistent.csv")
}
