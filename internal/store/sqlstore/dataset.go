package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// storedColumn maps a column name to its storage column c<Col> in the typed
// table. Storage names are built from Col only, never from the user's name.
type storedColumn struct {
	Name string      `json:"name"`
	Type schema.Type `json:"type"`
	Col  int         `json:"col"`
}

func (sc storedColumn) ident() string { return fmt.Sprintf("c%d", sc.Col) }

type mapping []storedColumn

func (m mapping) find(name string) (storedColumn, bool) {
	for _, sc := range m {
		if sc.Name == name {
			return sc, true
		}
	}
	return storedColumn{}, false
}

func decodeMapping(pipeline, raw string) (mapping, error) {
	var m mapping
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("dataset %s: decode column mapping: %w", pipeline, err)
	}
	for _, sc := range m {
		if sc.Col <= 0 {
			return nil, fmt.Errorf("dataset %s: column mapping has storage column %d", pipeline, sc.Col)
		}
	}
	return m, nil
}

// loadMapping reads a pipeline's column mapping; ErrNotFound when the
// dataset does not exist. lock is appended to the SELECT: the dialect's
// RowLock in a write transaction, to hold the datasets row until its end.
func loadMapping(ctx context.Context, q Querier, pipeline, lock string) (mapping, error) {
	var raw string
	if err := q.QueryRow(ctx, `SELECT columns FROM datasets WHERE pipeline = $1`+lock, pipeline).Scan(&raw); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pipeline, err)
	}
	return decodeMapping(pipeline, raw)
}

// storageColumns returns, for each stored column of c in order, its storage
// column, or ok=false for a column the table lacks. A stored column whose
// type differs from c's is ErrSchemaChanged.
func storageColumns(pipeline string, c *schema.Compiled, m mapping) (idx []int, cols []storedColumn, ok []bool, err error) {
	for _, i := range c.Schema().Stored() {
		col := c.Column(i)
		sc, found := m.find(col.Name)
		if found && sc.Type != col.Type {
			return nil, nil, nil, fmt.Errorf("dataset %s: %w: column %q is stored as %s, the schema says %s; call DatasetEnsure first",
				pipeline, store.ErrSchemaChanged, col.Name, sc.Type, col.Type)
		}
		idx = append(idx, i)
		cols = append(cols, sc)
		ok = append(ok, found)
	}
	return idx, cols, ok, nil
}

var pipelineRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// table returns the quoted name of a pipeline's typed table, built by the
// dialect from the validated pipeline name only.
func (s *Store) table(pipeline string) (string, error) {
	if !pipelineRE.MatchString(pipeline) {
		return "", fmt.Errorf("pipeline name %q must match [a-z][a-z0-9_]{0,62}", pipeline)
	}
	return s.d.TableName(pipeline), nil
}

// QuoteIdent quotes an SQL identifier (the same way in both dialects).
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// DatasetEnsure creates the pipeline's typed table ds_<pipeline> or adds
// storage columns for new column names, and records the schema. Concurrent
// calls for a new pipeline meet on the datasets primary key: one creates
// the table, the others wait for it and then follow the existing-dataset
// path under the row lock.
func (s *Store) DatasetEnsure(ctx context.Context, params *store.DatasetEnsureParams) error {
	table, err := s.table(params.Pipeline)
	if err != nil {
		return err
	}
	if err := params.Schema.Validate(); err != nil {
		return fmt.Errorf("dataset %s: %w", params.Pipeline, err)
	}
	schemaJSON, err := json.Marshal(params.Schema)
	if err != nil {
		return fmt.Errorf("dataset %s: encode schema: %w", params.Pipeline, err)
	}
	// The mapping of a new dataset: c1, c2, … in schema order.
	var fresh mapping
	for _, col := range params.Schema.Columns {
		if !col.Ignore {
			fresh = append(fresh, storedColumn{Name: col.Name, Type: col.Type, Col: len(fresh) + 1})
		}
	}
	freshJSON, err := json.Marshal(fresh)
	if err != nil {
		return err
	}
	return s.d.WriteTx(ctx, func(tx Querier) error {
		now := s.d.Time(s.now())
		n, err := tx.Exec(ctx, `INSERT INTO datasets (pipeline, schema, columns, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (pipeline) DO NOTHING`, params.Pipeline, string(schemaJSON), string(freshJSON), now)
		if err != nil {
			return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, err)
		}
		if n == 1 {
			return s.createTable(ctx, tx, table, params.Pipeline, fresh)
		}

		var oldSchema, rawMap string
		err = tx.QueryRow(ctx, `SELECT schema, columns FROM datasets WHERE pipeline = $1`+s.d.RowLock(), params.Pipeline).Scan(&oldSchema, &rawMap)
		if err != nil {
			return fmt.Errorf("dataset %s: %w", params.Pipeline, err)
		}
		if oldSchema == string(schemaJSON) {
			return nil
		}
		m, err := decodeMapping(params.Pipeline, rawMap)
		if err != nil {
			return err
		}
		next := 0
		for _, sc := range m {
			next = max(next, sc.Col)
		}
		for _, col := range params.Schema.Columns {
			if col.Ignore {
				continue
			}
			if sc, ok := m.find(col.Name); ok {
				if sc.Type != col.Type {
					return fmt.Errorf("dataset %s: %w: column %q changed type from %s to %s",
						params.Pipeline, store.ErrSchemaChanged, col.Name, sc.Type, col.Type)
				}
				continue
			}
			next++
			sc := storedColumn{Name: col.Name, Type: col.Type, Col: next}
			typ, err := s.d.ColumnType(col.Type)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD COLUMN `+sc.ident()+` `+typ); err != nil {
				return fmt.Errorf("dataset %s: add column %q: %w", params.Pipeline, col.Name, err)
			}
			m = append(m, sc)
		}
		mapJSON, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE datasets SET schema = $1, columns = $2, updated_at = $3 WHERE pipeline = $4`,
			string(schemaJSON), string(mapJSON), now, params.Pipeline)
		if err != nil {
			return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, err)
		}
		return nil
	})
}

// createTable creates the typed table of a new dataset with the columns
// of m.
func (s *Store) createTable(ctx context.Context, tx Querier, table, pipeline string, m mapping) error {
	var defs strings.Builder
	for _, sc := range m {
		typ, err := s.d.ColumnType(sc.Type)
		if err != nil {
			return err
		}
		defs.WriteString(`, ` + sc.ident() + ` ` + typ)
	}
	if _, err := tx.Exec(ctx, s.d.CreateTable(table, defs.String())); err != nil {
		return fmt.Errorf("dataset %s: create table: %w", pipeline, err)
	}
	return nil
}

// DatasetInfo returns counts about a pipeline's data from its batches, in
// one statement (one consistent view).
func (s *Store) DatasetInfo(ctx context.Context, pipeline string) (*store.DatasetInfo, error) {
	info := &store.DatasetInfo{Pipeline: pipeline}
	var last timeDest
	err := s.d.Reader().QueryRow(ctx, `SELECT b.n, b.accepted, b.rejected, b.last,
			(SELECT created_at FROM batches WHERE id = b.last)
		FROM datasets d, (
			SELECT count(*) AS n, CAST(coalesce(sum(accepted), 0) AS bigint) AS accepted,
				CAST(coalesce(sum(rejected), 0) AS bigint) AS rejected, coalesce(max(id), 0) AS last
			FROM batches WHERE pipeline = $1) b
		WHERE d.pipeline = $1`, pipeline).
		Scan(&info.Batches, &info.Rows, &info.Quarantined, &info.LastBatchID, &last)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pipeline, err)
	}
	info.LastBatchAt = last.ptr()
	return info, nil
}
