package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/ingest"
	"github.com/opendiscourse/congressflow/internal/store"
)

// Unlimited is a [congress.Limiter] that never waits: the baseline of a
// fake API without a rate limit.
type Unlimited struct{}

// Wait returns at once.
func (Unlimited) Wait(context.Context) error { return nil }

// Observe ignores the headers.
func (Unlimited) Observe(congress.RateLimit) {}

// LoopStats are what a [Loop] did.
type LoopStats struct {
	Requests int
	Items    int64
}

// Loop walks each endpoint completely without Temporal: the walk planner
// of internal/ingest, the Congress.gov client and the store's upsert, one
// transaction per page as the FetchPages activity commits them, with up to
// parallel endpoints at once. It keeps no cursor, run record or heartbeat:
// what it does not do is what durability costs.
func Loop(ctx context.Context, pool *pgxpool.Pool, api *congress.Client, endpoints []string, pageSize, parallel int) (LoopStats, error) {
	tables := store.NewTables()
	to := time.Now().UTC().Truncate(time.Second)
	stats := make([]LoopStats, len(endpoints))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(endpoints))
	slots := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, name := range endpoints {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if errs[i] = walkOne(ctx, pool, api, tables, name, to, pageSize, &stats[i]); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var total LoopStats
	for _, s := range stats {
		total.Requests += s.Requests
		total.Items += s.Items
	}
	return total, errors.Join(errs...)
}

// walkOne walks one endpoint for [Loop].
func walkOne(ctx context.Context, pool *pgxpool.Pool, api *congress.Client, tables *store.Tables, name string, to time.Time, pageSize int, st *LoopStats) error {
	congressEp, _ := congress.EndpointByName("congress")
	ep, ok := congress.EndpointByName(name)
	if !ok {
		return fmt.Errorf("bench: unknown endpoint %q", name)
	}
	w, err := ingest.New(ep, ingest.Options{To: to, Limit: pageSize})
	if err != nil {
		return err
	}
	walkID := fmt.Sprintf("bench-loop-%s-%d", name, to.UnixNano())
	for {
		req, more := w.Next(ep)
		if !more {
			break
		}
		target := ep
		if req.Endpoint != ep.Name {
			target = congressEp
		}
		page, err := api.Page(ctx, target, req.Params, req.Offset)
		st.Requests++
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if req.Store(w) {
				if _, err := tables.Upsert(ctx, tx, ep.Name, page.Items); err != nil {
					return err
				}
				st.Items += int64(len(page.Items))
			}
			newKeys := 0
			if req.Scope != 0 {
				if newKeys, err = store.RecordSeen(ctx, tx, walkID, req.Scope, keys(page.Items)); err != nil {
					return err
				}
			}
			eff, err := w.Observe(ep, req, page, newKeys)
			if err != nil {
				return err
			}
			if eff.RecordScope != 0 {
				_, err = store.RecordSeen(ctx, tx, walkID, eff.RecordScope, keys(page.Items))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return store.ForgetSeen(ctx, pool, walkID)
}

func keys(items []congress.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}
