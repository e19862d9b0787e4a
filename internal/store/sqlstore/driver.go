package sqlstore

// DriverRows is what the rows of database/sql and of pgx share.
type DriverRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// InterpretRows returns rows whose errors go through interpret (the
// backend's error map); close closes the driver's rows.
func InterpretRows(rows DriverRows, close func(), interpret func(error) error) Rows {
	return &interpretedRows{rows: rows, close: close, interpret: interpret}
}

type interpretedRows struct {
	rows      DriverRows
	close     func()
	interpret func(error) error
}

func (r *interpretedRows) Next() bool             { return r.rows.Next() }
func (r *interpretedRows) Scan(dest ...any) error { return r.interpret(r.rows.Scan(dest...)) }
func (r *interpretedRows) Err() error             { return r.interpret(r.rows.Err()) }
func (r *interpretedRows) Close()                 { r.close() }

// InterpretRow returns row whose Scan error goes through interpret.
func InterpretRow(row Row, interpret func(error) error) Row {
	return interpretedRow{row: row, interpret: interpret}
}

type interpretedRow struct {
	row       Row
	interpret func(error) error
}

func (r interpretedRow) Scan(dest ...any) error { return r.interpret(r.row.Scan(dest...)) }
