package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mlserve/mlserve/internal/schema"
	"github.com/mlserve/mlserve/internal/store"
)

// storedColumn maps a column name to its storage column c<Col> in the typed
// table. Storage names are built from Col only, never from the user's name.
// The JSON shape is the SQLite backend's.
type storedColumn struct {
	Name string      `json:"name"`
	Type schema.Type `json:"type"`
	Col  int         `json:"col"`
}

func (sc storedColumn) ident() string { return fmt.Sprintf("c%d", sc.Col) }

// sqlType is the storage type of a column type.
func sqlType(t schema.Type) (string, error) {
	switch t {
	case schema.Number:
		return "double precision", nil
	case schema.Integer:
		return "bigint", nil
	case schema.Boolean:
		return "boolean", nil
	case schema.Category:
		return "text", nil
	}
	return "", fmt.Errorf("column type %q has no storage type", t)
}

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
// dataset does not exist. With lock it also locks the datasets row until
// the end of the transaction.
func loadMapping(ctx context.Context, q querier, pipeline string, lock bool) (mapping, error) {
	query := `SELECT columns FROM datasets WHERE pipeline = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	var raw string
	if err := q.QueryRow(ctx, query, pipeline).Scan(&raw); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pipeline, interpretError(err))
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

// DatasetEnsure creates the pipeline's typed table ds_<pipeline> or adds
// storage columns for new column names, and records the schema. Concurrent
// calls for a new pipeline meet on the datasets primary key: one creates
// the table, the others wait for it and then follow the existing-dataset
// path under the row lock.
func (db *DB) DatasetEnsure(ctx context.Context, params *store.DatasetEnsureParams) error {
	table, err := tableName(params.Pipeline)
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
	return db.inTx(ctx, readWrite, func(tx pgx.Tx) error {
		now := db.clock()
		tag, err := tx.Exec(ctx, `INSERT INTO datasets (pipeline, schema, columns, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (pipeline) DO NOTHING`, params.Pipeline, string(schemaJSON), string(freshJSON), now)
		if err != nil {
			return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, interpretError(err))
		}
		if tag.RowsAffected() == 1 {
			return createTable(ctx, tx, table, params.Pipeline, fresh)
		}

		var oldSchema, rawMap string
		err = tx.QueryRow(ctx, `SELECT schema, columns FROM datasets WHERE pipeline = $1 FOR UPDATE`, params.Pipeline).Scan(&oldSchema, &rawMap)
		if err != nil {
			return fmt.Errorf("dataset %s: %w", params.Pipeline, interpretError(err))
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
			typ, err := sqlType(col.Type)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+table.Sanitize()+` ADD COLUMN `+sc.ident()+` `+typ); err != nil {
				return fmt.Errorf("dataset %s: add column %q: %w", params.Pipeline, col.Name, interpretError(err))
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
			return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, interpretError(err))
		}
		return nil
	})
}

func createTable(ctx context.Context, tx pgx.Tx, table pgx.Identifier, pipeline string, m mapping) error {
	var b strings.Builder
	b.WriteString(`CREATE TABLE ` + table.Sanitize() + ` (batch_id bigint NOT NULL, row_no integer NOT NULL`)
	for _, sc := range m {
		typ, err := sqlType(sc.Type)
		if err != nil {
			return err
		}
		b.WriteString(`, ` + sc.ident() + ` ` + typ)
	}
	// A snapshot is one range scan of the primary key, in order.
	b.WriteString(`, PRIMARY KEY (batch_id, row_no))`)
	if _, err := tx.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("dataset %s: create table: %w", pipeline, interpretError(err))
	}
	return nil
}

// DatasetInfo returns counts about a pipeline's data from its batches, in
// one statement (one consistent view).
func (db *DB) DatasetInfo(ctx context.Context, pipeline string) (*store.DatasetInfo, error) {
	info := &store.DatasetInfo{Pipeline: pipeline}
	err := db.pool.QueryRow(ctx, `SELECT b.n, b.accepted, b.rejected, b.last,
			(SELECT created_at FROM batches WHERE id = b.last)
		FROM datasets d, LATERAL (
			SELECT count(*) AS n, coalesce(sum(accepted), 0)::bigint AS accepted,
				coalesce(sum(rejected), 0)::bigint AS rejected, coalesce(max(id), 0) AS last
			FROM batches WHERE pipeline = d.pipeline) b
		WHERE d.pipeline = $1`, pipeline).
		Scan(&info.Batches, &info.Rows, &info.Quarantined, &info.LastBatchID, &info.LastBatchAt)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pipeline, interpretError(err))
	}
	info.LastBatchAt = utcPtr(info.LastBatchAt)
	return info, nil
}
