package app

import (
	"context"
	"time"

	"github.com/mlserve/mlserve/internal/notify"
	"github.com/mlserve/mlserve/internal/store"
)

// startSignals carries change signals made by other processes into this
// process's hubs, when the store can push them (store.Notifier, PostgreSQL's
// LISTEN/NOTIFY): registry changes wake the api's reload, committed batches
// wake the trainer's new-rows trigger, stored specs wake every role's spec
// check, created and revoked tokens empty the serving roles' token cache. All keep their periodic check, which
// covers signals lost while the listener was down.
//
// It starts listening before it returns, so that a change made once the
// process is announced is heard, and returns the pump to run until ctx is
// done. If listening cannot start, the pump retries with backoff.
func (a *App) startSignals(ctx context.Context, roles Roles) (pump func()) {
	n, ok := a.Store.(store.Notifier)
	if !ok {
		return func() {}
	}
	// Every role follows the pipelines' specs.
	hubs := map[string]*notify.Hub{store.ChannelSpecs: a.SpecsChanged}
	if roles.API {
		hubs[store.ChannelRegistry] = a.Changes
	}
	if roles.Trainer {
		hubs[store.ChannelBatches] = a.NewRows
	}
	if roles.API || roles.Ingest {
		hubs[store.ChannelTokens] = a.TokensChanged
	}
	var channels []string
	for ch := range hubs {
		channels = append(channels, ch)
	}
	sig, err := n.Listen(ctx, channels...)
	return func() {
		for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
			if err == nil {
				a.Logger.Debug("listening for changes of other processes", "channels", channels)
				// Changes made before listening started are checked now.
				for _, h := range hubs {
					h.Publish("")
				}
				for s := range sig {
					// An empty payload (signals may have been missed) wakes
					// a full check just the same.
					hubs[s.Channel].Publish(s.Payload)
				}
				return // ctx done or store closed
			}
			if ctx.Err() != nil {
				return
			}
			a.Logger.Warn("cannot listen for changes of other processes; relying on the periodic check", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			sig, err = n.Listen(ctx, channels...)
		}
	}
}
