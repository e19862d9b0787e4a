package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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

// sqlType is the storage type of a column type.
func sqlType(t schema.Type) (string, error) {
	switch t {
	case schema.Number:
		return "REAL", nil
	case schema.Integer, schema.Boolean:
		return "INTEGER", nil
	case schema.Category:
		return "TEXT", nil
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

// loadMapping reads a pipeline's column mapping; ErrNotFound when the
// dataset does not exist.
func loadMapping(ctx context.Context, q querier, pipeline string) (mapping, error) {
	var raw string
	err := q.QueryRowContext(ctx, `SELECT columns FROM datasets WHERE pipeline = ?`, pipeline).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", pipeline, interpretError(err))
	}
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

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DatasetEnsure creates the pipeline's typed table ds_<pipeline> or adds
// storage columns for new column names, and records the schema.
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var oldSchema string
		err := tx.QueryRowContext(ctx, `SELECT schema FROM datasets WHERE pipeline = ?`, params.Pipeline).Scan(&oldSchema)
		switch {
		case err == sql.ErrNoRows:
			return db.createDataset(ctx, tx, table, params, string(schemaJSON))
		case err != nil:
			return fmt.Errorf("dataset %s: %w", params.Pipeline, interpretError(err))
		}
		if oldSchema == string(schemaJSON) {
			return nil
		}
		m, err := loadMapping(ctx, tx, params.Pipeline)
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
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+sc.ident()+` `+typ); err != nil {
				return fmt.Errorf("dataset %s: add column %q: %w", params.Pipeline, col.Name, interpretError(err))
			}
			m = append(m, sc)
		}
		mapJSON, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE datasets SET schema = ?, columns = ?, updated_at = ? WHERE pipeline = ?`,
			string(schemaJSON), string(mapJSON), db.nowText(), params.Pipeline)
		if err != nil {
			return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, interpretError(err))
		}
		return nil
	})
}

func (db *DB) createDataset(ctx context.Context, tx *sql.Tx, table string, params *store.DatasetEnsureParams, schemaJSON string) error {
	var m mapping
	var b strings.Builder
	b.WriteString(`CREATE TABLE ` + table + ` (batch_id INTEGER NOT NULL, row_no INTEGER NOT NULL`)
	for _, col := range params.Schema.Columns {
		if col.Ignore {
			continue
		}
		typ, err := sqlType(col.Type)
		if err != nil {
			return err
		}
		sc := storedColumn{Name: col.Name, Type: col.Type, Col: len(m) + 1}
		m = append(m, sc)
		b.WriteString(`, ` + sc.ident() + ` ` + typ)
	}
	// Rows are clustered by (batch_id, row_no): appends go to the end and a
	// snapshot is one range scan in order.
	b.WriteString(`, PRIMARY KEY (batch_id, row_no)) WITHOUT ROWID`)
	if _, err := tx.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("dataset %s: create table: %w", params.Pipeline, interpretError(err))
	}
	mapJSON, err := json.Marshal(m)
	if err != nil {
		return err
	}
	now := db.nowText()
	_, err = tx.ExecContext(ctx, `INSERT INTO datasets (pipeline, schema, columns, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		params.Pipeline, schemaJSON, string(mapJSON), now, now)
	if err != nil {
		return fmt.Errorf("dataset %s: record schema: %w", params.Pipeline, interpretError(err))
	}
	return nil
}

// DatasetInfo returns counts about a pipeline's data from its batches.
func (db *DB) DatasetInfo(ctx context.Context, pipeline string) (*store.DatasetInfo, error) {
	info := &store.DatasetInfo{Pipeline: pipeline}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM datasets WHERE pipeline = ?`, pipeline).Scan(&one); err != nil {
			return fmt.Errorf("dataset %s: %w", pipeline, interpretError(err))
		}
		err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(accepted), 0), coalesce(sum(rejected), 0), coalesce(max(id), 0)
			FROM batches WHERE pipeline = ?`, pipeline).Scan(&info.Batches, &info.Rows, &info.Quarantined, &info.LastBatchID)
		if err != nil {
			return fmt.Errorf("dataset %s: count batches: %w", pipeline, interpretError(err))
		}
		if info.LastBatchID == 0 {
			return nil
		}
		var at string
		if err := tx.QueryRowContext(ctx, `SELECT created_at FROM batches WHERE id = ?`, info.LastBatchID).Scan(&at); err != nil {
			return fmt.Errorf("dataset %s: last batch: %w", pipeline, interpretError(err))
		}
		t, err := parseTime(at)
		if err != nil {
			return err
		}
		info.LastBatchAt = &t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}
