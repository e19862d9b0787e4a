package app

import (
	"context"
	"errors"
	"sync"

	"github.com/mlserve/mlserve/internal/httpx"
	"github.com/mlserve/mlserve/internal/store"
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
//
// /readyz answers anyone, so a failing database or object store is
// reported as "database unavailable" or "object store unavailable"; its
// error, which names hosts, ports, users and database names, goes to the
// log when it begins or changes.
func (a *App) readiness(roles Roles) (required, soft map[string]httpx.Check) {
	required, soft = map[string]httpx.Check{}, map[string]httpx.Check{}
	database := a.publicCheck("database", "database unavailable", func(ctx context.Context) error {
		if _, err := a.Store.ProductionList(ctx); err != nil {
			return err
		}
		if a.dbDir != "" {
			return diskSpace(a.dbDir)
		}
		return nil
	})
	if roles.API {
		soft["database"] = database
	} else {
		required["database"] = database
	}
	if p, ok := a.Bucket.(pinger); ok && (roles.API || roles.Trainer) {
		soft["object_store"] = a.publicCheck("object_store", "object store unavailable", p.Ping)
	}
	return required, soft
}

// publicCheck returns check with its failure reported as public, the
// words of the answer, and its error logged: at warning level when the
// check starts failing or fails otherwise than last time, at info level
// when it passes again. A readiness probe every few seconds adds no line
// while nothing changes.
func (a *App) publicCheck(name, public string, check httpx.Check) httpx.Check {
	var mu sync.Mutex
	last := ""
	return func(ctx context.Context) error {
		err := check(ctx)
		now := ""
		if err != nil {
			now = err.Error()
		}
		mu.Lock()
		changed := now != last
		last = now
		mu.Unlock()
		switch {
		case err == nil && changed:
			a.Logger.Info("readiness check passes again", "check", name)
		case err != nil && changed:
			a.Logger.Warn("readiness check failing", "check", name, "err", err)
		}
		switch {
		case errors.Is(err, store.ErrDiskFull):
			return errors.New(diskFullPublic)
		case err != nil:
			return errors.New(public)
		}
		return nil
	}
}

// diskFullPublic is what /readyz says of a database whose disk is full:
// true and useful to anyone, and it names no path.
const diskFullPublic = "disk full: the database reads but cannot store anything until space is freed"
