package congresstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
	"github.com/opendiscourse/congressflow/internal/congresstest"
)

const key = "FAKE-TEST-KEY-123456"

func client(t *testing.T, srv *congresstest.Server) *congress.Client {
	t.Helper()
	c, err := congress.New(congress.Config{
		BaseURL: srv.URL(), APIKey: key,
		Limiter: congress.NewTokenBucketWith(congress.TokenBucketConfig{Limit: 1 << 20, Window: time.Second, Burst: 1 << 10}),
	})
	require.NoError(t, err)
	return c
}

// walk pages to the end and returns the items in the order served.
func walk(t *testing.T, c *congress.Client, ep congress.Endpoint, p congress.Params) []congress.Item {
	t.Helper()
	var out []congress.Item
	offset := 0
	for range 10000 {
		page, err := c.Page(t.Context(), ep, p, offset)
		require.NoError(t, err)
		require.Empty(t, page.Rejected)
		out = append(out, page.Items...)
		if !page.HasNext {
			return out
		}
		offset = page.NextOffset
	}
	t.Fatal("walk does not end")
	return nil
}

func keysOf(items []congress.Item) map[string]int {
	m := map[string]int{}
	for _, it := range items {
		m[it.Key]++
	}
	return m
}

// TestEveryEndpointServesItsItems walks every registry endpoint on the fake
// and checks that items decode with their natural keys, exactly once, with
// the bytes Items reports; per-congress lists hold that congress only.
func TestEveryEndpointServesItsItems(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 600, Seed: 11, APIKeys: []string{key}})
	t.Cleanup(srv.Close)
	c := client(t, srv)

	for _, ep := range congress.Endpoints() {
		t.Run(ep.Name, func(t *testing.T) {
			t.Parallel()
			want, err := srv.Items(ep.Name)
			require.NoError(t, err)
			wantRaw := map[string]string{}
			for _, it := range want {
				wantRaw[it.Key] = string(it.Raw)
			}
			require.Len(t, wantRaw, len(want), "natural keys are unique")

			var from time.Time
			if ep.FromRequired {
				from = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			var got []congress.Item
			if ep.Path != "" {
				got = walk(t, c, ep, congress.Params{Limit: 250, Sort: true, From: from})
			}
			if ep.CongressPath != "" {
				var perCongress []congress.Item
				for n := congresstest.FirstCongress; n <= congresstest.LastCongress; n++ {
					items := walk(t, c, ep, congress.Params{Congress: n, Limit: 100, From: from})
					require.NotEmpty(t, items)
					perCongress = append(perCongress, items...)
				}
				if ep.Path == "" {
					got = perCongress
				} else {
					require.Equal(t, keysOf(got), keysOf(perCongress), "per-congress lists partition the whole list")
				}
			}
			counts := keysOf(got)
			require.Len(t, counts, len(want))
			for _, it := range got {
				require.Equal(t, 1, counts[it.Key], it.Key)
				require.Equal(t, wantRaw[it.Key], string(it.Raw), it.Key)
			}
		})
	}
}

// TestWindowAndSort: fromDateTime/toDateTime select by update date, sort
// ascending orders by it; without sort the newest come first.
func TestWindowAndSort(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"amendment": 3000}, ItemsPerEndpoint: 1})
	t.Cleanup(srv.Close)
	c := client(t, srv)
	ep, _ := congress.EndpointByName("amendment")
	all, err := srv.Items("amendment")
	require.NoError(t, err)

	from, to := all[700].UpdateDate, all[1900].UpdateDate
	got := walk(t, c, ep, congress.Params{From: from, To: to, Sort: true, Limit: 250})
	require.Len(t, got, 1201, "both bounds inclusive")
	for i, it := range got {
		require.False(t, it.UpdateDate.Before(from) || it.UpdateDate.After(to))
		if i > 0 {
			require.False(t, it.UpdateDate.Before(got[i-1].UpdateDate), "ascending")
		}
	}

	desc := walk(t, c, ep, congress.Params{Limit: 250})
	require.Len(t, desc, 3000)
	require.Equal(t, all[2999].Key, desc[0].Key, "newest first by default")
}

// TestTouchShiftsASortedWalk shows the fault the ingest must handle: items
// updated during an updateDate-ascending walk of a frozen window leave it,
// the count drops and later items shift left, so a walk that trusts the
// offsets misses items.
func TestTouchShiftsASortedWalk(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"bill": 2000}, ItemsPerEndpoint: 1, Seed: 5})
	t.Cleanup(srv.Close)
	c := client(t, srv)
	ep, _ := congress.EndpointByName("bill")
	p := congress.Params{To: time.Now().Add(-time.Hour), Sort: true, Limit: 250}

	first, err := c.Page(t.Context(), ep, p, 0)
	require.NoError(t, err)
	require.Equal(t, 2000, first.Count)
	touched, err := srv.Touch("bill", 50)
	require.NoError(t, err)
	require.Len(t, touched, 50)

	seen := keysOf(first.Items)
	offset, lastCount := first.NextOffset, 0
	for {
		page, err := c.Page(t.Context(), ep, p, offset)
		require.NoError(t, err)
		lastCount = page.Count
		for _, it := range page.Items {
			seen[it.Key]++
		}
		if !page.HasNext {
			break
		}
		offset = page.NextOffset
	}
	require.Equal(t, 1950, lastCount, "touched items left the window")
	missing := 0
	for _, k := range touched {
		if seen[k] == 0 {
			missing++
		}
	}
	require.Less(t, len(seen), 2000-missing, "the shift made the naive walk skip untouched items too")

	// A window that includes now sees the touched items again, at the end.
	again := walk(t, c, ep, congress.Params{Sort: true, Limit: 250})
	require.Len(t, again, 2000)
	tail := keysOf(again[len(again)-50:])
	for _, k := range touched {
		require.Equal(t, 1, tail[k], "touched item %s moved to the end", k)
	}
}

// TestInsertAndTouchKnobs: with InsertEvery new items land in front of a
// default (newest first) walk and shift it right: nothing present at the
// start is lost, some items repeat. With TouchEvery, items change under
// the walk.
func TestInsertAndTouchKnobs(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{
		Items: map[string]int{"house-vote": 1000}, ItemsPerEndpoint: 1,
		InsertEvery: 2, InsertCount: 3,
	})
	t.Cleanup(srv.Close)
	c := client(t, srv)
	ep, _ := congress.EndpointByName("house-vote")
	before, err := srv.Items("house-vote")
	require.NoError(t, err)

	seen := keysOf(walk(t, c, ep, congress.Params{Limit: 100}))
	for _, it := range before {
		require.Positive(t, seen[it.Key], "item %s present at the start was seen", it.Key)
	}
	n, err := srv.Count("house-vote")
	require.NoError(t, err)
	require.Greater(t, n, 1000)
	repeated := 0
	for _, v := range seen {
		if v > 1 {
			repeated++
		}
	}
	require.Positive(t, repeated, "shifts right repeat items")

	touching := congresstest.NewServer(congresstest.Options{
		Items: map[string]int{"hearing": 1000}, ItemsPerEndpoint: 1, TouchEvery: 2, TouchCount: 5,
	})
	t.Cleanup(touching.Close)
	hearing, _ := congress.EndpointByName("hearing")
	before, err = touching.Items("hearing")
	require.NoError(t, err)
	walk(t, client(t, touching), hearing, congress.Params{Limit: 100})
	after, err := touching.Items("hearing")
	require.NoError(t, err)
	require.Len(t, after, 1000)
	changed := 0
	for i := range after {
		if string(after[i].Raw) != string(before[i].Raw) {
			changed++
			require.True(t, after[i].UpdateDate.After(before[i].UpdateDate))
		}
	}
	require.Positive(t, changed)
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestGatewayAndWireBehaviour checks the real bodies and headers for keys,
// rate limits, formats, unknown paths and pagination links.
func TestGatewayAndWireBehaviour(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{APIKeys: []string{key}, ItemsPerEndpoint: 30, RateLimit: 6, RateWindow: time.Hour})
	t.Cleanup(srv.Close)
	auth := map[string]string{"X-Api-Key": key}

	resp, body := get(t, srv.URL()+"/bill?format=json", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `{"error": {"code": "API_KEY_MISSING", "message": "No api_key was supplied. Get one at https://api.congress.gov:443"}}`, body)

	resp, body = get(t, srv.URL()+"/bill?format=json", map[string]string{"X-Api-Key": "nope"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `{"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key was supplied. Get one at https://api.congress.gov:443"}}`, body)

	resp, body = get(t, srv.URL()+"/bill?limit=2&sort=updateDate+asc&fromDateTime=2015-01-01T00:00:00Z", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(body, "<?xml"), "XML without format=json")

	resp, body = get(t, srv.URL()+"/bill?format=json&limit=2&sort=updateDate+asc&fromDateTime=2015-01-01T00:00:00Z", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "6", resp.Header.Get("X-Ratelimit-Limit"))
	require.Equal(t, "4", resp.Header.Get("X-Ratelimit-Remaining"), "403s do not count")
	var env struct {
		Pagination struct {
			Count      int
			Next, Prev string
		} `json:"pagination"`
		Request map[string]string `json:"request"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &env))
	require.Equal(t, 30, env.Pagination.Count)
	require.Contains(t, env.Pagination.Next, "?sort=updateDate asc&fromDateTime=2015-01-01T00:00:00Z&offset=2&limit=2&format=json", "raw space, filters carried")
	require.NotContains(t, env.Pagination.Next, key)
	require.Empty(t, env.Pagination.Prev)
	require.Equal(t, "json", env.Request["format"])
	require.Contains(t, body, "\n    \"bills\": [", "indented like the API")

	resp, body = get(t, srv.URL()+"/billzzz?format=json", auth)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.JSONEq(t, `{"error": "Unknown resource: billzzz"}`, body)

	resp, _ = get(t, srv.URL()+"/bill?format=json&fromDateTime=2015-01-01", auth)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, _ = get(t, srv.URL()+"/bill?format=json&limit=999", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = get(t, srv.URL()+"/bill?format=json", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode, "sixth request still within the limit")
	require.Equal(t, "0", resp.Header.Get("X-Ratelimit-Remaining"))

	resp, body = get(t, srv.URL()+"/bill?format=json", auth)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.JSONEq(t, `{"error": {"code": "OVER_RATE_LIMIT", "message": "You have exceeded your rate limit. Try again later or contact us for assistance: https://api.congress.gov:443"}}`, body)
	require.Equal(t, "0", resp.Header.Get("X-Ratelimit-Remaining"))
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	require.EqualValues(t, 9, srv.Requests())
	require.EqualValues(t, 8, srv.EndpointRequests("bill"))
	require.EqualValues(t, 1, srv.EndpointRequests(""))
	require.EqualValues(t, 1, srv.Responses(http.StatusTooManyRequests))
	for _, u := range srv.RecordedURLs() {
		require.NotContains(t, u, key)
	}
}

// TestServerErrorsAreReproducible: the same seed gives the same faults.
func TestServerErrorsAreReproducible(t *testing.T) {
	t.Parallel()
	statuses := func() []int {
		srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 10, ServerErrorRate: 0.5, Seed: 42})
		defer srv.Close()
		var out []int
		for range 20 {
			resp, body := get(t, srv.URL()+"/treaty?format=json", map[string]string{"X-Api-Key": key})
			out = append(out, resp.StatusCode)
			if resp.StatusCode >= 500 && strings.Contains(resp.Header.Get("Content-Type"), "html") {
				require.Contains(t, body, "<title>")
			}
		}
		return out
	}
	first := statuses()
	require.Equal(t, first, statuses())
	require.Contains(t, first, http.StatusOK)
	require.Contains(t, first, http.StatusInternalServerError)
}

func TestNewHandlerRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    congresstest.Options
		wantErr string
	}{
		{"unknown endpoint", congresstest.Options{Items: map[string]int{"bills": 1}}, `unknown endpoint "bills"`},
		{"error rate above one", congresstest.Options{ServerErrorRate: 1.5}, "ServerErrorRate"},
		{"negative items", congresstest.Options{ItemsPerEndpoint: -1}, "ItemsPerEndpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := congresstest.NewHandler(tt.opts)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestSummariesWithoutWindowListOnlyTheLastDay: like the real /summaries
// (#312), a request without fromDateTime lists only the last day's changes.
func TestSummariesWithoutWindowListOnlyTheLastDay(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"summaries": 500}, ItemsPerEndpoint: 1})
	t.Cleanup(srv.Close)
	touched, err := srv.Touch("summaries", 3)
	require.NoError(t, err)
	auth := map[string]string{"X-Api-Key": key}
	count := func(query string) int {
		t.Helper()
		resp, body := get(t, srv.URL()+"/summaries?format=json"+query, auth)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var env struct {
			Pagination struct{ Count int } `json:"pagination"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &env))
		return env.Pagination.Count
	}
	require.Equal(t, len(touched), count(""))
	require.Equal(t, len(touched), count("&toDateTime=2099-01-01T00:00:00Z"))
	require.Equal(t, 500, count("&fromDateTime=2000-01-01T00:00:00Z"))
}

// TestPageLinks: next and prev carry the other filters in a stable order,
// then offset, limit and format, like the API's links; never the key.
func TestPageLinks(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{ItemsPerEndpoint: 30})
	t.Cleanup(srv.Close)
	for range 5 {
		resp, body := get(t, srv.URL()+"/member?format=json&limit=2&offset=4&zeta=1&currentMember=false&api_key="+key, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var env struct {
			Pagination struct{ Next, Prev string } `json:"pagination"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &env))
		require.Equal(t, srv.URL()+"/member?currentMember=false&zeta=1&offset=6&limit=2&format=json", env.Pagination.Next)
		require.Equal(t, srv.URL()+"/member?currentMember=false&zeta=1&offset=2&limit=2&format=json", env.Pagination.Prev)
	}
}

// TestSegmentsListOneTypeOfACongress checks the sub-lists a walk splits by
// when a one-second window holds more than a page: /bill/{congress}/{type}
// lists that congress's bills of that type, windows included; upper-case
// path parameters are unknown resources, as on the real API.
func TestSegmentsListOneTypeOfACongress(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"bill": 3000}, ItemsPerEndpoint: 1, Ties: map[string]int{"bill": 1200}})
	t.Cleanup(srv.Close)
	c := client(t, srv)
	ep, _ := congress.EndpointByName("bill")
	all, err := srv.Items("bill")
	require.NoError(t, err)

	total := 0
	for _, typ := range ep.Types {
		got := walk(t, c, ep, congress.Params{Congress: 118, Segments: []string{typ}, Limit: 250})
		for _, it := range got {
			require.Equal(t, "118", it.KeyParts[0])
			require.Equal(t, strings.ToUpper(typ), it.KeyParts[1])
		}
		total += len(got)
	}
	require.Equal(t, 300, total, "the types partition the congress")

	// The tie block shares one second: the whole block, then one type of
	// one congress of it.
	tie := all[900].UpdateDate
	page, err := c.Page(t.Context(), ep, congress.Params{From: tie, To: tie, Limit: 250}, 0)
	require.NoError(t, err)
	require.Equal(t, 1200, page.Count)
	page, err = c.Page(t.Context(), ep, congress.Params{Congress: 118, Segments: []string{"hr"}, From: tie, To: tie, Limit: 250}, 0)
	require.NoError(t, err)
	require.Equal(t, 15, page.Count)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+"/bill/118/HR?format=json", nil)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestEmptyPagesComeBackWhenAskedAgain checks the #365 fault: a page before
// the end is empty once, with count and next intact.
func TestEmptyPagesComeBackWhenAskedAgain(t *testing.T) {
	t.Parallel()
	srv := congresstest.NewServer(congresstest.Options{Items: map[string]int{"hearing": 1000}, ItemsPerEndpoint: 1, EmptyPageEvery: 2})
	t.Cleanup(srv.Close)
	c := client(t, srv)
	ep, _ := congress.EndpointByName("hearing")
	first, err := c.Page(t.Context(), ep, congress.Params{Limit: 250}, 0)
	require.NoError(t, err)
	require.Len(t, first.Items, 250)
	empty, err := c.Page(t.Context(), ep, congress.Params{Limit: 250}, 250)
	require.NoError(t, err)
	require.Empty(t, empty.Items)
	require.Equal(t, 1000, empty.Count)
	require.True(t, empty.HasNext)
	again, err := c.Page(t.Context(), ep, congress.Params{Limit: 250}, 250)
	require.NoError(t, err)
	require.Len(t, again.Items, 250)
	require.EqualValues(t, 1, srv.EmptyPages())
}

// TestThrottleBurstsAndMalformedPages: every ThrottleEvery-th request opens
// a burst of 429s with a Retry-After that counts down; a Malformed offset
// stays cut off however often it is asked for, the other offsets do not.
func TestThrottleBurstsAndMalformedPages(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := congresstest.NewServer(congresstest.Options{APIKeys: []string{key}, ItemsPerEndpoint: 30, Now: func() time.Time { return now },
		ThrottleEvery: 3, ThrottleFor: 5 * time.Second, Malformed: map[string][]int{"member": {10}}})
	t.Cleanup(srv.Close)
	auth := map[string]string{"X-Api-Key": key}
	page := srv.URL() + "/member?format=json&limit=10&offset="

	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests, http.StatusTooManyRequests} {
		resp, body := get(t, page+"0", auth)
		require.Equal(t, want, resp.StatusCode, "request %d: %s", i+1, body)
		if want == http.StatusTooManyRequests {
			require.JSONEq(t, `{"error": {"code": "OVER_RATE_LIMIT", "message": "You have exceeded your rate limit. Try again later or contact us for assistance: https://api.congress.gov:443"}}`, body)
			require.Equal(t, "5", resp.Header.Get("Retry-After"))
		}
	}
	now = now.Add(3 * time.Second)
	resp, _ := get(t, page+"0", auth)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"), "the burst's time left")
	now = now.Add(2 * time.Second)
	require.EqualValues(t, 3, srv.Throttled())

	for range 3 {
		now = now.Add(10 * time.Second) // past any burst this request opens
		resp, body := get(t, page+"10", auth)
		if resp.StatusCode == http.StatusTooManyRequests {
			continue
		}
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.False(t, json.Valid([]byte(body)), "offset 10 stays malformed: %s", body)
		require.Contains(t, body, `"members": [`)
	}
	require.EqualValues(t, 2, srv.MalformedPages())
	now = now.Add(10 * time.Second)
	resp, body := get(t, page+"20", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, json.Valid([]byte(body)))

	_, err := congresstest.NewHandler(congresstest.Options{Malformed: map[string][]int{"bils": {0}}, ThrottleEvery: -1})
	require.ErrorContains(t, err, `option Malformed names unknown endpoint "bils"`)
	require.ErrorContains(t, err, "ThrottleEvery")
}

// TestRequestRate: the rate between the first and the last request.
func TestRequestRate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := congresstest.NewServer(congresstest.Options{APIKeys: []string{key}, ItemsPerEndpoint: 5, Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	require.Zero(t, srv.RequestRate(), "no requests yet")
	for range 5 {
		get(t, srv.URL()+"/member?format=json", map[string]string{"X-Api-Key": key})
		now = now.Add(500 * time.Millisecond)
	}
	// Five requests over two seconds: four intervals.
	require.InDelta(t, 2.0, srv.RequestRate(), 1e-9)
}
