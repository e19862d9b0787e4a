package config

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	fields := []string{"algorithm", "params", "holdout", "seed"}
	tests := []struct{ in, want string }{
		{"holdut", "holdout"},
		{"hold_out", "holdout"},
		{"Seed", "seed"},
		{"sede", "seed"},
		{"algoritm", "algorithm"},
		{"parms", "params"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := suggest("auc", allMetrics); got != "roc_auc" {
		t.Errorf("suggest(auc) = %q, want roc_auc", got)
	}
}

func TestFixName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Titanic-2", "titanic_2"},
		{"my pipeline", "my_pipeline"},
		{"2024 sales", "p_2024_sales"},
		{"__x__", "x"},
		{"ÄÖ", ""},
		{"ok_name", "ok_name"},
	}
	for _, tt := range tests {
		got := FixName(tt.in)
		if got != tt.want {
			t.Errorf("FixName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got != "" && !ValidName(got) {
			t.Errorf("FixName(%q) = %q is not valid", tt.in, got)
		}
	}
	if long := FixName(string(make([]byte, 0)) + "a" + string(bytesOf('b', 100))); len(long) != 63 || !ValidName(long) {
		t.Errorf("got %q (%d), want 63 valid characters", long, len(long))
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
