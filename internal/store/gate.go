package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// GateStore keeps the promotion gate's comparison on a version (embedded in
// Store).
type GateStore interface {
	// VersionGateSet records the gate's comparison of a candidate with
	// production on the version (Version.Gate). It replaces an earlier
	// record (a retried run gates again) and changes nothing else.
	VersionGateSet(ctx context.Context, params *VersionGateSetParams) error
}

// VersionGateSetParams are the arguments of VersionGateSet.
type VersionGateSetParams struct {
	Pipeline string
	Version  int
	Gate     *Gate
}

// Gate is how the promotion gate compared a candidate with the production
// version. With Resamples > 0 both were scored on the same holdout rows
// and a paired bootstrap over those rows measured the difference; Diff*
// are candidate minus production, signed so that positive means the
// candidate is better (for losses such as rmse, production minus
// candidate).
type Gate struct {
	Metric string `json:"metric"`
	// Candidate and Production are the metric of each on the compared rows.
	Candidate         float64 `json:"candidate"`
	Production        float64 `json:"production"`
	ProductionVersion int     `json:"production_version"`
	// Basis is "same holdout" (Production scored on the candidate's
	// holdout rows), "recorded" (production's own recorded metric, when
	// its schema differs; no bootstrap then) or "none" (production has no
	// such metric recorded either).
	Basis string `json:"basis"`
	// Rows is the number of holdout rows compared.
	Rows int `json:"rows"`
	// Confidence is promote.confidence: the share of resamples the
	// candidate had to win (0: a plain comparison).
	Confidence float64 `json:"confidence"`
	Resamples  int     `json:"resamples"`
	// DiffMean is the bootstrap's mean difference, DiffP05 and DiffP95 its
	// 5 % and 95 % quantiles.
	DiffMean float64 `json:"diff_mean"`
	DiffP05  float64 `json:"diff_p05"`
	DiffP95  float64 `json:"diff_p95"`
	// WinShare is the share of resamples where the candidate was better.
	WinShare float64 `json:"win_share"`
	Promoted bool    `json:"promoted"`
}

// EncodeGate writes a gate record as stored ("" for nil).
func EncodeGate(g *Gate) (string, error) {
	if g == nil {
		return "", nil
	}
	b, err := json.Marshal(g)
	if err != nil {
		return "", fmt.Errorf("encode gate record: %w", err)
	}
	return string(b), nil
}

// DecodeGate reads what EncodeGate wrote (nil for "").
func DecodeGate(s string) (*Gate, error) {
	if s == "" {
		return nil, nil
	}
	g := &Gate{}
	if err := json.Unmarshal([]byte(s), g); err != nil {
		return nil, fmt.Errorf("decode gate record: %w", err)
	}
	return g, nil
}
