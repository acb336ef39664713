package congress_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opendiscourse/congressflow/internal/congress"
)

// TestDecodeSamples decodes every captured response in testdata (copied from
// the shared reference samples) and checks counts, paging and natural keys.
func TestDecodeSamples(t *testing.T) {
	t.Parallel()

	tests := []struct {
		file       string
		endpoint   string
		wantItems  int
		wantCount  int
		wantNext   bool
		wantKeys   []string // leading keys, in order
		wantUpdate string   // UpdateDate of the first item, RFC 3339; "" for zero
	}{
		{"amendment.json", "amendment", 3, 7066, true, []string{"119|SAMDT|1", "119|SAMDT|2", "119|HAMDT|1"}, "2025-01-14T12:08:21Z"},
		{"bill.json", "bill", 2, 429950, true, []string{"119|HR|10348", "119|HJRES|213"}, "2026-09-14T00:00:00Z"},
		{"bill.loc-java-sample-2022.json", "bill", 20, 386408, true, []string{"117|HR|3617", "117|HR|7343"}, "2022-04-03T00:00:00Z"},
		{"bound-congressional-record.json", "bound-congressional-record", 4, 4, false,
			[]string{"1948-05-19|94|House of Representatives", "1948-05-19|94|Senate", "1948-05-19|94|Entire Issue", "1948-05-19|94|Daily Digest"}, "2023-04-27T00:00:00Z"},
		{"committee-meeting.json", "committee-meeting", 3, 1611, true, []string{"119|House|119569"}, "2026-09-18T21:34:11Z"},
		{"committee-print.json", "committee-print", 3, 79, true, []string{"119|House|63747"}, "2026-09-19T15:43:23Z"},
		{"committee-report.json", "committee-report", 3, 950, true, []string{"119|HRPT|1|1", "119|HRPT|2|1"}, "2025-05-27T14:12:39Z"},
		{"committee.json", "committee", 20, 718, true, []string{"hcza00", "hhah00"}, ""},
		{"congress.json", "congress", 20, 118, true, []string{"118", "117", "116"}, ""},
		{"congressional-record.json", "congressional-record", 20, 5303, true, []string{"27301"}, ""},
		{"crsreport.json", "crsreport", 2, 14111, true, []string{"LSB11481", "R49346"}, "2026-09-14T12:08:45Z"},
		{"daily-congressional-record.json", "daily-congressional-record", 3, 5869, true, []string{"172|148", "172|147"}, "2026-09-19T10:33:17Z"},
		{"hearing.json", "hearing", 3, 971, true, []string{"119|House|64431"}, "2026-09-18T19:55:55Z"},
		{"house-communication.json", "house-communication", 3, 4975, true, []string{"119|EC|4752", "119|ML|136"}, "2026-09-18T00:00:00Z"},
		{"house-requirement.json", "house-requirement", 3, 3226, true, []string{"12478", "12557", "2471"}, "2021-11-05T00:00:00Z"},
		{"house-vote.json", "house-vote", 3, 362, true, []string{"119|1|240", "119|1|306"}, "2025-09-09T22:53:19Z"},
		{"law.json", "law", 20, 274, true, []string{"118|S|3998", "118|HR|6492", "118|HJRES|7"}, "2025-05-21T00:00:00Z"},
		{"member.christopherkenny-2025-05.json", "member", 19, 2598, true, []string{"C001078", "M001242"}, "2025-05-21T13:36:20Z"},
		{"member.json", "member", 3, 2696, true, []string{"W000832", "B001328", "G000607"}, "2026-09-19T07:40:27Z"},
		{"nomination.json", "nomination", 3, 2208, true, []string{"119|730|20", "119|730|04"}, "2026-09-18T11:00:36Z"},
		{"senate-communication.json", "senate-communication", 3, 4842, true, []string{"119|EC|4712"}, "2026-09-18T10:15:55Z"},
		{"summaries.json", "summaries", 2, 2, false, []string{"118|SRES|106|25"}, "2023-12-29T11:45:20Z"},
		{"treaty.json", "treaty", 2, 2, false, []string{"119|2|", "119|1|"}, "2026-09-15T00:33:28Z"},
	}

	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
	}
	for _, f := range files {
		require.True(t, covered[filepath.Base(f)], "testdata/%s has no test case", filepath.Base(f))
	}
	require.Len(t, files, len(tests))

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ep, ok := congress.EndpointByName(tt.endpoint)
			require.True(t, ok, "endpoint %s", tt.endpoint)
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)

			// Redacted recordings read https://v3/...; decode them as stored
			// and with the host restored, which must give the same keys.
			variants := [][]byte{body}
			if bytes.Contains(body, []byte("https://v3/")) {
				variants = append(variants, bytes.ReplaceAll(body, []byte("https://v3/"), []byte("https://api.congress.gov/v3/")))
			}
			for _, b := range variants {
				page, err := congress.DecodePage(ep, b, 0, 20)
				require.NoError(t, err)
				require.Empty(t, page.Rejected)
				require.Len(t, page.Items, tt.wantItems)
				require.Equal(t, tt.wantCount, page.Count)
				require.Equal(t, tt.wantNext, page.HasNext)
				require.Equal(t, tt.wantItems, page.NextOffset)

				seen := map[string]bool{}
				for i, item := range page.Items {
					require.NotEmpty(t, item.Key)
					require.False(t, seen[item.Key], "duplicate key %s", item.Key)
					seen[item.Key] = true
					require.Len(t, item.KeyParts, len(ep.Key))
					require.Equal(t, congress.JoinKey(item.KeyParts), item.Key)
					require.NotContains(t, string(item.Raw), "\n", "raw is compacted")
					if i < len(tt.wantKeys) {
						require.Equal(t, tt.wantKeys[i], item.Key, "item %d", i)
					}
					cols, err := ep.ColumnValues(item.Raw)
					require.NoError(t, err)
					require.Len(t, cols, len(ep.Columns))
				}
				if tt.wantUpdate == "" {
					require.True(t, page.Items[0].UpdateDate.IsZero())
				} else {
					require.Equal(t, tt.wantUpdate, page.Items[0].UpdateDate.Format(time.RFC3339))
				}
			}
		})
	}
}

// TestColumnValues checks typed columns on captured items: dates, text,
// integers, booleans and JSON.
func TestColumnValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		file     string
		endpoint string
		want     map[string]any // column name → value of the first item
	}{
		{"bill.json", "bill", map[string]any{
			"origin_chamber":     "House",
			"introduced_date":    time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC),
			"latest_action_date": time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC),
		}},
		{"nomination.json", "nomination", map[string]any{
			"citation":    "PN730-20",
			"is_civilian": true,
			"is_military": nil,
		}},
		{"treaty.json", "treaty", map[string]any{
			"topic":               "Taxation",
			"congress_considered": nil,
			"transmitted_date":    time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC),
		}},
		{"house-vote.json", "house-vote", map[string]any{
			"identifier":     int64(11912025240),
			"start_date":     time.Date(2025, 9, 8, 22, 56, 0, 0, time.UTC),
			"amendment_type": nil,
		}},
		{"congress.json", "congress", map[string]any{"start_year": int64(2023), "name": "118th Congress"}},
		{"congressional-record.json", "congressional-record", map[string]any{
			"congress": int64(118), "issue": "212", "publish_date": time.Date(2023, 12, 26, 0, 0, 0, 0, time.UTC),
		}},
		{"law.json", "law", map[string]any{"law_number": "118-203", "law_type": "Public Law"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ep, ok := congress.EndpointByName(tt.endpoint)
			require.True(t, ok)
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			page, err := congress.DecodePage(ep, body, 0, 20)
			require.NoError(t, err)
			cols, err := ep.ColumnValues(page.Items[0].Raw)
			require.NoError(t, err)
			got := map[string]any{}
			for i, c := range ep.Columns {
				got[c.Name] = cols[i]
			}
			for name, want := range tt.want {
				require.Contains(t, got, name)
				require.Equal(t, want, got[name], "column %s", name)
			}
		})
	}
}

// TestEndpointRegistry checks that every entry is complete and consistent.
func TestEndpointRegistry(t *testing.T) {
	t.Parallel()
	required := []string{
		"bill", "amendment", "summaries", "member", "committee", "committee-report",
		"nomination", "treaty", "law", "hearing", "house-vote", "congress", "congressional-record",
	}
	for _, name := range required {
		_, ok := congress.EndpointByName(name)
		require.True(t, ok, "endpoint %s missing", name)
	}
	names := map[string]bool{}
	for _, ep := range congress.Endpoints() {
		require.False(t, names[ep.Name], "duplicate %s", ep.Name)
		names[ep.Name] = true
		require.NotEmpty(t, ep.ListKey, ep.Name)
		require.NotEmpty(t, ep.CountField, ep.Name)
		require.NotEmpty(t, ep.Key, ep.Name)
		require.True(t, ep.Path != "" || ep.CongressPath != "", ep.Name)
		if ep.Path != "" {
			require.True(t, strings.HasPrefix(ep.Path, "/"+ep.Name), ep.Name)
		}
		if ep.CongressPath != "" {
			require.Contains(t, ep.CongressPath, "{congress}", ep.Name)
		}
		require.False(t, ep.Window && ep.Path == "", ep.Name)
		require.False(t, ep.CongressWindow && ep.CongressPath == "", ep.Name)
		require.False(t, ep.SegmentWindow && !ep.Window && !ep.CongressWindow, ep.Name)
		require.False(t, ep.FromRequired && !ep.Window && !ep.CongressWindow, ep.Name)
		cols := map[string]bool{}
		for _, k := range ep.Key {
			require.NotEmpty(t, k.From, "%s key %s", ep.Name, k.Name)
			require.Contains(t, []congress.ColumnType{congress.TypeInt, congress.TypeText}, k.Type, "%s key %s", ep.Name, k.Name)
			require.False(t, cols[k.Name], "%s duplicate column %s", ep.Name, k.Name)
			cols[k.Name] = true
		}
		for _, c := range ep.Columns {
			require.False(t, cols[c.Name], "%s duplicate column %s", ep.Name, c.Name)
			cols[c.Name] = true
		}
	}
	// Endpoints returns a copy: changing it does not change the registry.
	eps := congress.Endpoints()
	eps[0].Key[0].Name = "changed"
	again, _ := congress.EndpointByName(eps[0].Name)
	require.NotEqual(t, "changed", again.Key[0].Name)
}
