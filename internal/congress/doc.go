// Package congress is a client for the list endpoints of the Congress.gov
// v3 API (https://api.congress.gov/v3).
//
// Section numbers (§) refer to the project's Congress.gov API reference,
// congress-api.md; issue numbers (#N) to LibraryOfCongress/api.congress.gov.
//
// # Endpoints
//
// [Endpoints] is a table: each [Endpoint] gives its list paths, the JSON key
// of its item array, its natural key, whether fromDateTime/toDateTime and
// sort=updateDate+asc are honoured, and the typed columns worth keeping.
// Adding an endpoint is a table entry. congressional-record, whose envelope
// differs (Results.Issues, Results.TotalCount, no links), is covered by the
// same fields.
//
// # Paging
//
// [Client.Page] fetches one page at an offset chosen by the caller and
// returns the items with their natural keys, the reported count, whether a
// next page exists and the next offset. The caller's (endpoint, [Params],
// offset) is the cursor; the API's next link is only read for its presence,
// because it has been wrong in the past and carries a raw space in sort. The
// decoder ignores unknown fields, tolerates missing ones and nulls, reads
// the mixed date formats ([ParseTime]) and survives empty or short pages
// before the count is reached (reference §5). Items without a usable natural
// key are reported in [Page].Rejected instead of failing the page.
//
// # Errors, retries and the key
//
// Errors are [*APIError] values with a sentinel kind ([ErrAuth],
// [ErrRateLimited], [ErrNotFound], [ErrServer], [ErrDecode], [ErrTimeout],
// [ErrNetwork], [ErrRequest], [ErrInvalidParams]); [Retryable] and
// [RetryAfter] tell the caller what to do. The client itself never retries.
//
// The API key is sent only in the X-Api-Key header. It is never part of a
// URL, an error message or a log line, redirects are not followed (they
// would forward the header), and [Config] redacts it when printed or
// logged.
//
// # Rate budget
//
// Every request first waits on a [Limiter]; every response's
// X-Ratelimit-Limit and X-Ratelimit-Remaining are fed back to it.
// [TokenBucket] is the in-process implementation (5,000 requests per hour by
// default) and tightens when the API reports less budget than expected.
package congress
