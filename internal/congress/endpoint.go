package congress

// ColumnType is the SQL type of a natural-key part or a typed column. The
// values are PostgreSQL type names, so a store can use them as an allow-list.
type ColumnType string

// Column types.
const (
	TypeText ColumnType = "text"
	TypeInt  ColumnType = "bigint"
	TypeBool ColumnType = "boolean"
	// TypeDate holds the calendar date of any date or timestamp value.
	TypeDate ColumnType = "date"
	// TypeTime holds a timestamp; date-only values become midnight UTC.
	TypeTime ColumnType = "timestamptz"
	// TypeJSON holds any JSON value (object, array, scalar) as is.
	TypeJSON ColumnType = "jsonb"
)

// KeyField is one part of an endpoint's natural key.
type KeyField struct {
	// Name is the column name (snake_case).
	Name string
	// From lists dot paths into the item ("bill.number", "sections.0.name");
	// the first one present and not null wins. More than one path covers
	// renamed fields (treaty "congressReceived" was "congress").
	From []string
	// Type is TypeInt or TypeText. Key parts are always carried as text in
	// [Item.KeyParts]; Type tells a store how to declare the column.
	Type ColumnType
	// Upper folds the value to upper case (bill and report types arrive as
	// "HR" but path parameters are lower case).
	Upper bool
	// LeadingDigits keeps only the leading digits ("118th Congress" → "118").
	LeadingDigits bool
	// Optional allows the part to be missing; Default is used instead.
	Optional bool
	// Default replaces a missing optional part.
	Default string
}

// Column is a typed column worth keeping beside the raw item.
type Column struct {
	// Name is the column name (snake_case).
	Name string
	// From is a dot path into the item ("latestAction.actionDate").
	From string
	// Type is the column type.
	Type ColumnType
}

// Endpoint describes one Congress.gov list endpoint. Endpoints are data:
// adding one is a table entry in [Endpoints], not new code.
type Endpoint struct {
	// Name is the registry name ("bill", "house-vote").
	Name string
	// Path is the list path across all congresses ("/bill"); empty when the
	// API has none (law), so [Params].Congress is required.
	Path string
	// CongressPath is the list path for one congress, with a "{congress}"
	// placeholder ("/bill/{congress}"); empty when there is none.
	CongressPath string
	// ListKey is the dot path of the item array in the envelope ("bills",
	// "Results.Issues").
	ListKey string
	// CountField is the dot path of the total count ("pagination.count").
	CountField string
	// NextField is the dot path of the next-page link ("pagination.next");
	// empty when the envelope has none. Only its presence is used.
	NextField string
	// UpdateField is the item field holding the last update time
	// ("updateDate"); empty when items carry none.
	UpdateField string
	// Key is the natural key, in order.
	Key []KeyField
	// Window reports that fromDateTime/toDateTime are honoured on Path.
	Window bool
	// CongressWindow reports that fromDateTime/toDateTime are honoured on
	// CongressPath.
	CongressWindow bool
	// SegmentWindow reports that fromDateTime/toDateTime are also honoured
	// on the sub-lists below Path and CongressPath ([Params].Segments, e.g.
	// /bill/119/hr, /committee/house). False where only the plain paths
	// declare them: /member/{stateCode} does not.
	SegmentWindow bool
	// FromRequired reports that the list is incomplete without
	// fromDateTime: /summaries then lists only the last day's summaries
	// (#278, #312, #394). [Endpoint.Request] refuses a zero [Params].From.
	FromRequired bool
	// Sort reports that sort=updateDate+asc is honoured.
	Sort bool
	// Types are the lower-case values of the path segment below
	// CongressPath that partition one congress's list (bill types for
	// /bill/{congress}/{type}). A walk splits a list by them when even a
	// one-second window holds more than a page. Empty: no such segment.
	Types []string
	// Columns are the typed columns worth keeping.
	Columns []Column
	// Notes records quirks and choices, with sources from the API reference.
	Notes string
}

// KeyNames returns the names of the natural-key parts, in order.
func (ep Endpoint) KeyNames() []string {
	names := make([]string, len(ep.Key))
	for i, k := range ep.Key {
		names[i] = k.Name
	}
	return names
}

// SupportsWindow reports whether fromDateTime/toDateTime are honoured for a
// list of one congress (congress > 0) or of all congresses (congress 0).
func (ep Endpoint) SupportsWindow(congress int) bool {
	if congress > 0 {
		return ep.CongressWindow
	}
	return ep.Window
}

// EndpointByName returns the registry entry called name.
func EndpointByName(name string) (Endpoint, bool) {
	for _, ep := range Endpoints() {
		if ep.Name == name {
			return ep, true
		}
	}
	return Endpoint{}, false
}

// Envelope field paths shared by every endpoint but congressional-record.
const (
	paginationCount = "pagination.count"
	paginationNext  = "pagination.next"
	updateDate      = "updateDate"
)

func keyInt(name string, from ...string) KeyField {
	return KeyField{Name: name, From: from, Type: TypeInt}
}

func keyText(name string, from ...string) KeyField {
	return KeyField{Name: name, From: from, Type: TypeText}
}

func keyUpper(name string, from ...string) KeyField {
	return KeyField{Name: name, From: from, Type: TypeText, Upper: true}
}

func col(name, from string, typ ColumnType) Column {
	return Column{Name: name, From: from, Type: typ}
}

// Endpoints returns the endpoint registry, a fresh copy on every call.
// Natural keys, window and sort support follow §2–§3 of the API reference
// (LOC-SW declarations, corrected by the changelog and SPICY-DOC
// measurements).
func Endpoints() []Endpoint {
	latestAction := func() []Column {
		return []Column{
			col("latest_action_date", "latestAction.actionDate", TypeDate),
			col("latest_action_text", "latestAction.text", TypeText),
		}
	}
	billTypes := func() []string { return []string{"hr", "s", "hjres", "sjres", "hconres", "sconres", "hres", "sres"} }
	billKey := func() []KeyField {
		return []KeyField{keyInt("congress", "congress"), keyUpper("type", "type"), keyText("number", "number")}
	}
	communicationKey := func() []KeyField {
		return []KeyField{keyInt("congress", "congress"), keyUpper("communication_type", "communicationType.code"), keyInt("number", "number")}
	}

	return []Endpoint{
		{
			Name: "bill", Path: "/bill", CongressPath: "/bill/{congress}",
			ListKey: "bills", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    billKey(),
			Window: true, CongressWindow: true, SegmentWindow: true, Sort: true, Types: billTypes(),
			Columns: append([]Column{
				col("title", "title", TypeText),
				col("origin_chamber", "originChamber", TypeText),
				col("introduced_date", "introducedDate", TypeDate),
				col("update_date_including_text", "updateDateIncludingText", TypeTime),
			}, latestAction()...),
			Notes: "number is text: half numbers and Roman numerals exist (#79, #83).",
		},
		{
			Name: "amendment", Path: "/amendment", CongressPath: "/amendment/{congress}",
			ListKey: "amendments", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyInt("congress", "congress"), keyUpper("type", "type"), keyText("number", "number")},
			Window: true, CongressWindow: true, SegmentWindow: true, Sort: true, Types: []string{"hamdt", "samdt", "suamdt"},
			Columns: append([]Column{
				col("description", "description", TypeText),
				col("purpose", "purpose", TypeText),
			}, latestAction()...),
			Notes: "updateDate sort since Aug 2025 (#228).",
		},
		{
			Name: "summaries", Path: "/summaries", CongressPath: "/summaries/{congress}",
			ListKey: "summaries", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{
				keyInt("bill_congress", "bill.congress"), keyUpper("bill_type", "bill.type"),
				keyText("bill_number", "bill.number"), keyText("version_code", "versionCode"),
			},
			Window: true, CongressWindow: true, SegmentWindow: true, FromRequired: true, Sort: true, Types: billTypes(),
			Columns: []Column{
				col("action_date", "actionDate", TypeDate),
				col("action_desc", "actionDesc", TypeText),
				col("current_chamber", "currentChamber", TypeText),
				col("last_summary_update_date", "lastSummaryUpdateDate", TypeTime),
				col("bill_title", "bill.title", TypeText),
				col("text", "text", TypeText),
			},
			Notes: "Without fromDateTime only the last day is listed (#312), so From is required. " +
				"actionDate is left out of the key: it is intermittently empty (#234) and would split one summary into two rows.",
		},
		{
			Name: "member", Path: "/member", CongressPath: "/member/congress/{congress}",
			ListKey: "members", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyText("bioguide_id", "bioguideId")},
			Window: true, CongressWindow: false, Sort: false,
			Columns: []Column{
				col("name", "name", TypeText),
				col("party_name", "partyName", TypeText),
				col("state", "state", TypeText),
				col("district", "district", TypeInt),
				col("terms", "terms.item", TypeJSON),
			},
			Notes: "Window declared on /member only, not on /member/congress/... or /member/{stateCode}. Short pages seen (#212, #365).",
		},
		{
			Name: "committee", Path: "/committee", CongressPath: "/committee/{congress}",
			ListKey: "committees", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyText("system_code", "systemCode")},
			Window: true, CongressWindow: true, SegmentWindow: true, Sort: true,
			Columns: []Column{
				col("name", "name", TypeText),
				col("chamber", "chamber", TypeText),
				col("committee_type_code", "committeeTypeCode", TypeText),
				col("parent_system_code", "parent.systemCode", TypeText),
			},
			Notes: "updateDate only since Oct 2024; older captures have none.",
		},
		{
			Name: "committee-report", Path: "/committee-report", CongressPath: "/committee-report/{congress}",
			ListKey: "reports", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{
				keyInt("congress", "congress"), keyUpper("type", "type"), keyInt("number", "number"),
				{Name: "part", From: []string{"part"}, Type: TypeInt, Optional: true, Default: "1"},
			},
			Window: false, CongressWindow: false, Sort: true,
			Columns: []Column{
				col("citation", "citation", TypeText),
				col("chamber", "chamber", TypeText),
				col("cmte_rpt_id", "cmte_rpt_id", TypeInt),
			},
			Notes: "fromDateTime/toDateTime are declared but broken until a later sprint (LOC-CL Feb 2026): walked whole. " +
				"Errata may repeat the key tuple (#216, unconfirmed).",
		},
		{
			Name: "nomination", Path: "/nomination", CongressPath: "/nomination/{congress}",
			ListKey: "nominations", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{
				keyInt("congress", "congress"), keyInt("number", "number"),
				{Name: "part_number", From: []string{"partNumber"}, Type: TypeText, Optional: true, Default: "00"},
			},
			Window: true, CongressWindow: true, Sort: false,
			Columns: append([]Column{
				col("citation", "citation", TypeText),
				col("description", "description", TypeText),
				col("organization", "organization", TypeText),
				col("received_date", "receivedDate", TypeDate),
				col("is_civilian", "nominationType.isCivilian", TypeBool),
				col("is_military", "nominationType.isMilitary", TypeBool),
			}, latestAction()...),
			Notes: "Partitioned nominations share a number; partNumber tells them apart (PN730-20).",
		},
		{
			Name: "treaty", Path: "/treaty", CongressPath: "/treaty/{congress}",
			ListKey: "treaties", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{
				keyInt("congress_received", "congressReceived", "congress"),
				keyInt("number", "number", "treatyNum"),
				{Name: "suffix", From: []string{"suffix", "treatySuffix"}, Type: TypeText, Optional: true},
			},
			Window: true, CongressWindow: true, Sort: false,
			Columns: []Column{
				col("topic", "topic", TypeText),
				col("transmitted_date", "transmittedDate", TypeTime),
				col("congress_considered", "congressConsidered", TypeInt),
			},
			Notes: "Fields renamed Jan 2024; the key reads both spellings.",
		},
		{
			Name: "law", Path: "", CongressPath: "/law/{congress}",
			ListKey: "bills", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    billKey(),
			Window: false, CongressWindow: false, Sort: false,
			Columns: append([]Column{
				col("title", "title", TypeText),
				col("law_type", "laws.0.type", TypeText),
				col("law_number", "laws.0.number", TypeText),
				col("laws", "laws", TypeJSON),
			}, latestAction()...),
			Notes: "No /law root: Params.Congress is required. Items are bills, keyed like bills.",
		},
		{
			Name: "hearing", Path: "/hearing", CongressPath: "/hearing/{congress}",
			ListKey: "hearings", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyInt("congress", "congress"), keyText("chamber", "chamber"), keyInt("jacket_number", "jacketNumber")},
			Window: false, CongressWindow: false, Sort: false,
			Columns: []Column{
				col("number", "number", TypeInt),
				col("part", "part", TypeInt),
			},
		},
		{
			Name: "house-vote", Path: "/house-vote", CongressPath: "/house-vote/{congress}",
			ListKey: "houseRollCallVotes", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyInt("congress", "congress"), keyInt("session_number", "sessionNumber"), keyInt("roll_call_number", "rollCallNumber")},
			Window: false, CongressWindow: false, Sort: false,
			Columns: []Column{
				col("identifier", "identifier", TypeInt),
				col("start_date", "startDate", TypeTime),
				col("vote_type", "voteType", TypeText),
				col("result", "result", TypeText),
				col("legislation_type", "legislationType", TypeText),
				col("legislation_number", "legislationNumber", TypeText),
				col("amendment_type", "amendmentType", TypeText),
				col("amendment_number", "amendmentNumber", TypeText),
			},
			Notes: "Dates carry a UTC offset (-04:00). sort is ignored (SPICY-DOC).",
		},
		{
			Name: "congress", Path: "/congress",
			ListKey: "congresses", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{{Name: "number", From: []string{"number", "name"}, Type: TypeInt, LeadingDigits: true}},
			Window: false, Sort: true,
			Columns: []Column{
				col("name", "name", TypeText),
				col("start_year", "startYear", TypeInt),
				col("end_year", "endYear", TypeInt),
				col("sessions", "sessions", TypeJSON),
			},
			Notes: "number added June 2026; older data is keyed by the leading digits of name.",
		},
		{
			Name: "committee-print", Path: "/committee-print", CongressPath: "/committee-print/{congress}",
			ListKey: "committeePrints", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyInt("congress", "congress"), keyText("chamber", "chamber"), keyInt("jacket_number", "jacketNumber")},
			Window: true, CongressWindow: true, SegmentWindow: true,
		},
		{
			Name: "committee-meeting", Path: "/committee-meeting", CongressPath: "/committee-meeting/{congress}",
			ListKey: "committeeMeetings", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyInt("congress", "congress"), keyText("chamber", "chamber"), keyText("event_id", "eventId")},
			Window: true, CongressWindow: true, SegmentWindow: true,
		},
		{
			Name: "house-communication", Path: "/house-communication", CongressPath: "/house-communication/{congress}",
			ListKey: "houseCommunications", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:     communicationKey(),
			Columns: []Column{col("communication_type_name", "communicationType.name", TypeText)},
		},
		{
			Name: "senate-communication", Path: "/senate-communication", CongressPath: "/senate-communication/{congress}",
			ListKey: "senateCommunications", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:     communicationKey(),
			Columns: []Column{col("communication_type_name", "communicationType.name", TypeText)},
		},
		{
			Name: "house-requirement", Path: "/house-requirement",
			ListKey: "houseRequirements", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{keyInt("number", "number")},
		},
		{
			Name: "crsreport", Path: "/crsreport",
			ListKey: "CRSReports", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key:    []KeyField{keyText("id", "id")},
			Window: true,
			Columns: []Column{
				col("title", "title", TypeText),
				col("content_type", "contentType", TypeText),
				col("status", "status", TypeText),
				col("publish_date", "publishDate", TypeTime),
				col("version", "version", TypeInt),
			},
			Notes: "sort is ignored though next carries it (SPICY-DOC).",
		},
		{
			Name: "daily-congressional-record", Path: "/daily-congressional-record",
			ListKey: "dailyCongressionalRecord", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{keyInt("volume_number", "volumeNumber"), keyText("issue_number", "issueNumber")},
			Columns: []Column{
				col("congress", "congress", TypeInt),
				col("session_number", "sessionNumber", TypeInt),
				col("issue_date", "issueDate", TypeTime),
			},
			Notes: "The path parameter is a volume, not a congress: use Params.Segments.",
		},
		{
			Name: "bound-congressional-record", Path: "/bound-congressional-record",
			ListKey: "boundCongressionalRecord", CountField: paginationCount, NextField: paginationNext, UpdateField: updateDate,
			Key: []KeyField{
				keyText("date", "date"), keyInt("volume_number", "volumeNumber"),
				{Name: "section", From: []string{"sections.0.name"}, Type: TypeText, Optional: true},
			},
			Columns: []Column{
				col("congress", "congress", TypeInt),
				col("session_number", "sessionNumber", TypeInt),
				col("sections", "sections", TypeJSON),
			},
			Notes: "Day-level lists return one item per section, so the first section name is part of the key (uniqueness unconfirmed).",
		},
		{
			Name: "congressional-record", Path: "/congressional-record",
			ListKey: "Results.Issues", CountField: "Results.TotalCount",
			Key: []KeyField{keyInt("id", "Id")},
			Columns: []Column{
				col("congress", "Congress", TypeInt),
				col("volume", "Volume", TypeInt),
				col("issue", "Issue", TypeText),
				col("session", "Session", TypeInt),
				col("publish_date", "PublishDate", TypeDate),
			},
			Notes: "Own envelope: Results.Issues and Results.TotalCount, no pagination links and no updateDate; filters y, m, d go in Params.Query.",
		},
	}
}
