package rawcsv

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
)

// benchInputs are generated 1M-line, 5-column CSV files: "plain" has no
// quotes; "quoted" quotes one field of every line (holding a comma and,
// every 100th line, an escaped quote).
var benchInputs = sync.OnceValue(func() map[string][]byte {
	const lines = 1_000_000
	plain := bytes.NewBufferString("id,age,fare,sex,embarked\n")
	quoted := bytes.NewBufferString("id,age,fare,name,embarked\n")
	for i := range lines {
		age := strconv.Itoa(i % 80)
		fare := strconv.FormatFloat(float64(i%5000)/7, 'f', 4, 64)
		fmt.Fprintf(plain, "%d,%s,%s,%s,%c\n", i, age, fare, []string{"male", "female"}[i%2], "SCQ"[i%3])
		name := fmt.Sprintf(`"Smith, John %d"`, i%1000)
		if i%100 == 0 {
			name = `"O""Brien, Pat"`
		}
		fmt.Fprintf(quoted, "%d,%s,%s,%s,%c\n", i, age, fare, name, "SCQ"[i%3])
	}
	return map[string][]byte{"plain": plain.Bytes(), "quoted": quoted.Bytes()}
})

// BenchmarkRead compares Reader with encoding/csv on the same valid input;
// run with -benchmem and compare the ns/op of each pair.
func BenchmarkRead(b *testing.B) {
	for _, name := range []string{"plain", "quoted"} {
		in := benchInputs()[name]
		for _, reuse := range []bool{true, false} {
			suffix := "/reuse"
			if !reuse {
				suffix = "/alloc"
			}
			b.Run(name+suffix+"/rawcsv", func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					r := NewReader(bytes.NewReader(in))
					r.ReuseRecord = reuse
					n := 0
					for {
						rec, err := r.Read()
						if err == io.EOF {
							break
						}
						if err != nil || rec.Err != nil || len(rec.Fields) != 5 {
							b.Fatalf("record %d: %v %v", n, err, rec.Err)
						}
						n++
					}
					if n != 1_000_001 {
						b.Fatalf("read %d records", n)
					}
				}
			})
			b.Run(name+suffix+"/encoding_csv", func(b *testing.B) {
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					r := csv.NewReader(bytes.NewReader(in))
					r.ReuseRecord = reuse
					n := 0
					for {
						rec, err := r.Read()
						if err == io.EOF {
							break
						}
						if err != nil || len(rec) != 5 {
							b.Fatalf("record %d: %v", n, err)
						}
						n++
					}
					if n != 1_000_001 {
						b.Fatalf("read %d records", n)
					}
				}
			})
		}
	}
}
