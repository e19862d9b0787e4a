package postgres

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mlserve/mlserve/internal/store/sqlite"
)

// TestMigrationsMatchSQLite checks that both backends have the same
// migration versions and names (the contents differ by dialect).
func TestMigrationsMatchSQLite(t *testing.T) {
	t.Parallel()
	pg, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	list := func(n int, at func(i int) (int, string)) string {
		var b strings.Builder
		for i := range n {
			v, name := at(i)
			fmt.Fprintf(&b, "%03d_%s ", v, name)
		}
		return b.String()
	}
	got := list(len(pg), func(i int) (int, string) { return pg[i].Version, pg[i].Name })
	want := list(len(lite), func(i int) (int, string) { return lite[i].Version, lite[i].Name })
	if got != want {
		t.Fatalf("postgres migrations %s, sqlite migrations %s: want the same versions and names", got, want)
	}
	for i, m := range pg {
		if (i == 0 && m.Version != 1) || (i > 0 && m.Version <= pg[i-1].Version) || m.SQL == "" {
			t.Errorf("migration %d = version %d with %d bytes of SQL; want increasing versions from 1, each with SQL", i, m.Version, len(m.SQL))
		}
		if strings.Contains(strings.ToLower(m.SQL), "river_") {
			t.Errorf("migration %d touches river_ tables, which River owns", m.Version)
		}
	}
}

// TestMigrateConcurrentPools migrates one new schema from several pools
// (processes) at once, twice each: the advisory lock serialises them, the
// schema is created once and every version is recorded once.
func TestMigrateConcurrentPools(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	name := schemaName(t) // not created: Migrate creates it
	dbs := make([]*DB, 4)
	for i := range dbs {
		dbs[i] = openSchema(t, name, nil)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2*len(dbs))
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = dbs[i%len(dbs)].Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate #%d: %v", i, err)
		}
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].Version {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].Version)
	}
	// The tables are in the configured schema, not in public.
	var where string
	if err := dbs[0].pool.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'batches' AND table_schema = $1`, name).Scan(&where); err != nil {
		t.Fatalf("batches is not in schema %s: %v", name, err)
	}
}
