package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlserve/mlserve/internal/demo"
	"github.com/mlserve/mlserve/internal/ingest"
	"github.com/mlserve/mlserve/internal/rawcsv"
	"github.com/mlserve/mlserve/internal/store"
)

// feedOptions configure a row feed.
type feedOptions struct {
	pipeline string
	rate     float64 // rows per second; 0 = as fast as possible
	seed     uint64
	count    int    // rows to send; 0 = all of the CSV, or forever for synthetic
	csvPath  string // replay this CSV instead of the synthetic feed
	batch    int    // rows per request (default: a quarter second's worth)
	source   string
	logger   *slog.Logger
	// to, when set, sends to an ingest role over HTTP instead of in-process.
	to    string
	token string
	out   io.Writer // progress and summary, may be nil
}

// rowSource yields CSV records (the header first).
type rowSource func() ([]string, error)

func synthetic(seed uint64) (header []string, next rowSource) {
	g := demo.NewTitanic(seed)
	return demo.Columns, func() ([]string, error) { return g.Next().Record(), nil }
}

func csvSource(path string) ([]string, rowSource, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err // an *fs.PathError: "open PATH: reason"
	}
	rd := rawcsv.NewReader(f)
	hdr, err := rd.Read()
	if err != nil || hdr.Err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("read header of %s: %v", path, errors.Join(err, hdr.Err))
	}
	header := append([]string(nil), hdr.Fields...)
	return header, func() ([]string, error) {
		rec, err := rd.Read()
		if err != nil {
			return nil, err
		}
		if rec.Err != nil {
			// Send the raw line: the server quarantines it with its reason.
			return []string{rec.Raw}, nil
		}
		return append([]string(nil), rec.Fields...), nil
	}, f.Close, nil
}

// feed pushes rows at the given rate, in batches, until ctx is done, count
// rows were sent or the CSV is exhausted. In-process it calls svc; with
// o.to it POSTs to the ingest role, retrying failed requests with the same
// Idempotency-Key so every row is stored exactly once.
func feed(ctx context.Context, svc *ingest.Service, o *feedOptions) error {
	var header []string
	var next rowSource
	if o.csvPath != "" {
		h, n, closeFn, err := csvSource(o.csvPath)
		if err != nil {
			return err
		}
		defer closeFn()
		header, next = h, n
	} else {
		header, next = synthetic(o.seed)
	}
	batch := o.batch
	if batch <= 0 {
		batch = max(1, int(o.rate/4))
		if o.rate == 0 {
			batch = 1000
		}
	}
	var runID [4]byte
	rand.Read(runID[:])
	sent, accepted, rejected := 0, int64(0), int64(0)
	start := time.Now()
	for n := 0; ; n++ {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		rows := 0
		done := false
		for rows < batch && (o.count == 0 || sent+rows < o.count) {
			rec, err := next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				return err
			}
			if len(rec) == 1 && len(header) > 1 {
				w.Flush()
				buf.WriteString(rec[0] + "\n") // a malformed line, as it was
			} else {
				w.Write(rec)
			}
			rows++
		}
		w.Flush()
		if rows > 0 {
			key := fmt.Sprintf("datafill-%s-%d", hex.EncodeToString(runID[:]), n)
			res, err := sendBatch(ctx, svc, o, buf.Bytes(), key)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return err
			}
			sent += rows
			accepted += res.Accepted
			rejected += res.Rejected
			o.logger.Debug("batch sent", "pipeline", o.pipeline, "rows", rows, "batch_id", res.BatchID)
		}
		if done || (o.count > 0 && sent >= o.count) {
			break
		}
		if o.rate > 0 {
			due := start.Add(time.Duration(float64(sent) / o.rate * float64(time.Second)))
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(due)):
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if o.out != nil {
		fmt.Fprintf(o.out, "sent %d rows to %s: %d accepted, %d rejected (%.1f s)\n", sent, o.pipeline, accepted, rejected, time.Since(start).Seconds())
	}
	return nil
}

// sendBatch stores one CSV body, in-process or over HTTP with retries.
func sendBatch(ctx context.Context, svc *ingest.Service, o *feedOptions, body []byte, key string) (*store.BatchResult, error) {
	if o.to == "" {
		return svc.Ingest(ctx, &ingest.Request{Pipeline: o.pipeline, Format: ingest.FormatCSV, Body: bytes.NewReader(body), Source: o.source, IdempotencyKey: key})
	}
	url := strings.TrimRight(o.to, "/") + "/v1/datasets/" + o.pipeline + "/rows"
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, retryAfter, err := postBatch(ctx, url, o.token, body, key)
		if err == nil {
			return res, nil
		}
		var perm *permanentHTTPError
		if errors.As(err, &perm) || ctx.Err() != nil {
			return nil, err
		}
		wait := max(delay, retryAfter)
		o.logger.Warn("ingest request failed; retrying with the same Idempotency-Key", "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

type permanentHTTPError struct{ msg string }

func (e *permanentHTTPError) Error() string { return e.msg }

func postBatch(ctx context.Context, url, token string, body []byte, key string) (*store.BatchResult, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &permanentHTTPError{err.Error()}
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Idempotency-Key", key)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, time.Duration(ra) * time.Second, fmt.Errorf("ingest answered %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, &permanentHTTPError{fmt.Sprintf("ingest answered %s: %s", resp.Status, strings.TrimSpace(string(data)))}
	}
	var res store.BatchResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, 0, &permanentHTTPError{"ingest answer is not JSON: " + err.Error()}
	}
	return &res, 0, nil
}

func newDatafillCmd(g *globals) *cobra.Command {
	o := &feedOptions{}
	var synth string
	cmd := &cobra.Command{
		Use:   "datafill [--pipeline P] (--csv FILE | --synthetic titanic) [--rate N] [--to URL]",
		Short: "Feed rows to a pipeline: to the ingest role (--to) or straight into the database",
		Long: `datafill is the prototype's feed: it sends rows in batches at a steady rate.
With --to it POSTs them to an ingest role, retrying a failed request with the
same Idempotency-Key so that every row is stored exactly once; without --to it
writes straight into the database of --data-dir / MLSERVE_DATABASE_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (o.csvPath == "") == (synth == "") {
				return usagef("give exactly one of --csv FILE or --synthetic titanic")
			}
			if synth != "" && synth != "titanic" {
				return usagef("--synthetic %q: the synthetic feed is titanic", synth)
			}
			if o.rate < 0 {
				return usagef("--rate must be >= 0")
			}
			logger, err := g.logger()
			if err != nil {
				return err
			}
			o.logger, o.out, o.source = logger, g.env.Stdout, "datafill"
			env, err := g.resolvedEnv()
			if err != nil {
				return err
			}
			o.token = env.AdminToken
			if o.pipeline == "" {
				o.pipeline = "titanic"
			}
			if o.to != "" {
				return feed(cmd.Context(), nil, o)
			}
			var file = DemoFile()
			if synth == "" || fileExists(g.config) {
				file = nil
			}
			a, err := g.openApply(cmd.Context(), logger, file)
			if err != nil {
				return err
			}
			defer a.Close()
			if _, err := a.MustPipeline(o.pipeline); err != nil {
				return err
			}
			return feed(cmd.Context(), a.Ingest, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.pipeline, "pipeline", "", "pipeline to fill (default titanic)")
	f.StringVar(&o.csvPath, "csv", "", "replay the rows of this CSV file")
	f.StringVar(&synth, "synthetic", "", "synthetic feed: titanic")
	f.Float64Var(&o.rate, "rate", 10, "rows per second (0: as fast as possible)")
	f.IntVar(&o.count, "count", 0, "stop after this many rows (0: the whole CSV, or forever)")
	f.IntVar(&o.batch, "batch", 0, "rows per request (default: a quarter second's worth)")
	f.Uint64Var(&o.seed, "seed", 1912, "synthetic feed seed")
	f.StringVar(&o.to, "to", "", "ingest role URL, e.g. http://localhost:1235")
	return cmd
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
