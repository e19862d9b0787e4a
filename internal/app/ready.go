package app

import (
	"context"

	"github.com/mlserve/mlserve/internal/httpx"
)

// pinger is a bucket that can check it is reachable (s3.Bucket).
type pinger interface {
	Ping(ctx context.Context) error
}

// readiness returns the readiness checks of a process running roles: the
// required ones make /readyz 503, the soft ones are listed as degraded.
//
// The database is required unless the process serves predictions: an api
// holds its models in memory and keeps answering while the database is
// down, so it stays ready and reports the database as degraded (the models
// check, added by the api role, makes it unready until its models are
// loaded). An embedded database whose disk is full reads but cannot
// write: it is listed the same way ("disk full"). Ingest and the trainer can do nothing without the database. The
// object store is soft for every role: only loading a new version and
// publishing a trained one need it.
func (a *App) readiness(roles Roles) (required, soft map[string]httpx.Check) {
	required, soft = map[string]httpx.Check{}, map[string]httpx.Check{}
	database := func(ctx context.Context) error {
		if _, err := a.Store.ProductionList(ctx); err != nil {
			return err
		}
		if a.dbDir != "" {
			return diskSpace(a.dbDir)
		}
		return nil
	}
	if roles.API {
		soft["database"] = database
	} else {
		required["database"] = database
	}
	if p, ok := a.Bucket.(pinger); ok && (roles.API || roles.Trainer) {
		soft["object_store"] = p.Ping
	}
	return required, soft
}
