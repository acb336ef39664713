// Package ingest decides how to walk one Congress.gov list endpoint
// completely: which request to send next, given what the pages so far
// showed. It does no I/O: a caller (the FetchPages activity, a test, a
// benchmark) sends each [Request] with the client, stores the page, and
// reports it back with [Walk.Observe]. A [Walk] is plain data, so it
// travels in heartbeats, activity results and continue-as-new inputs, and a
// retried attempt resumes from the last one committed.
//
// # The problem
//
// Lists move while they are paged (congress-api.md §5): an item updated
// during the walk leaves a window frozen at the start and every later item
// shifts one place left, so an offset walk skips one; count moves with it,
// so counts alone cannot see the loss. Bills serve a date-only updateDate,
// thousands tie on one day after a bulk reprocessing, and nothing promises
// the order among ties from one request to the next. Counts can be off by
// one, and pages can come back short or empty before the end.
//
// # Windows (endpoints that honour fromDateTime/toDateTime)
//
// The window is frozen at the start: toDateTime is the walk's start,
// truncated to the second. Requests ask for sort=updateDate+asc where
// honoured. A page whose update times never decrease shows where the
// window's first page ends: every item updated before the last item's slot
// (its second, or its day for a date-only value) is on the page, so that
// part of the window is complete, and the walk continues from that slot
// (one second earlier, in case fromDateTime were exclusive). Each request
// thus moves the window start forward by about a page: a keyset walk over
// fromDateTime that needs no stable order and survives items leaving. A
// page in decreasing order (the API ignored sort) walks the window down
// from its end the same way, and is checked against the window's count at
// the end.
//
// When a whole page falls into one slot, that slot is split by time into
// windows whose counts fit a page (bisection, a day's first second probed
// first because date-only ties tend to sit at midnight), the count of a
// half inferred from its sibling so that a half known to be too big is
// split without a request. A one-second window that still holds more than
// a page is walked by offsets; as soon as its pages show ties in another
// order than the request before, or if that walk comes up short, the
// window is split by path: per congress (/bill/118), then per type
// (/bill/118/hr). A frozen window only loses items while it is walked, so
// its walk counts as complete when the distinct keys reach the largest
// count the window reported, not the last: keys seen before their items
// left would otherwise hide as many unseen ones.
//
// # Offsets (endpoints without windows, and unordered windows)
//
// Each next page is requested from offset+n−k, overlapping the previous
// page by k items. The previous page's last keys are looked for in the
// overlap: where they are tells the shift; when none is found, the walk
// steps back (bounded). A page that ends in a run of ties longer than the
// overlap has the next page start where the run starts, so the run comes
// whole in one order. At the end of a pass the distinct keys seen (kept by
// the caller per scope, see [Request].Scope) are compared with count, and
// a shortfall starts another pass (bounded): a re-walk only adds keys.
// What is still missing is reported as a gap.
//
// # Accounting
//
// Every list the API forces a walk through (the endpoint's list, or one
// per congress for law) is a [List] with the count its first page
// reported, the requests spent on it and the items confirmed. The minimum
// number of requests is the sum over these lists of ceil(count/250), at
// least one per list: that is what the walk's efficiency is measured
// against.
package ingest
