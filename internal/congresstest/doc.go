// Package congresstest is a fake Congress.gov v3 API for tests, benchmarks
// and the offline demo.
//
// It serves the list endpoints of [congress.Endpoints] with items shaped
// like the real captures (same keys, types, envelopes, date formats and
// omitted or null fields), generated on demand from a seed, so a fake with
// 100,000 items per endpoint starts at once and stores only what changed.
// It honours limit, offset, fromDateTime, toDateTime and sort where the real
// API does (and, like /summaries, lists only the last day when an
// endpoint needs fromDateTime and gets none), answers pagination
// count/next/prev (next with the raw space in sort and never the key),
// checks X-Api-Key with the real 403 bodies and counts every request.
//
// [Options] add the faults the ingest must survive: a rolling rate limit
// answered with 429 OVER_RATE_LIMIT and Retry-After, 5xx answers (half of
// them Cloudflare HTML pages), slow responses, items updated or inserted
// while a client pages (offsets shift), a count that lies, and short pages
// before the end. [Handler.Touch] and [Handler.Insert] change data on
// demand and [Handler.Items] returns the source to compare a walk against.
//
// In tests use [NewServer]; the command cmd/fakecongress serves the same
// [Handler] on a fixed address:
//
//	go run ./internal/congresstest/cmd/fakecongress -addr :8089 -items 100000
package congresstest
