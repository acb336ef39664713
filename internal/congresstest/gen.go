package congresstest

import (
	"fmt"
	"strconv"
	"time"
)

// Congress numbers used by generated items: item i belongs to congress
// LastCongress - i%(LastCongress-FirstCongress+1), so per-congress lists
// (/bill/{congress}) hold a tenth of the items each.
const (
	FirstCongress = 110
	LastCongress  = 119
	congressSpan  = LastCongress - FirstCongress + 1
)

// itemURLBase is the host written into item url fields. It is fixed (not
// the fake's address) so an item's JSON does not depend on where the fake
// listens.
const itemURLBase = "https://api.congress.gov/v3"

// item describes one generated item: its index in the dataset, version
// (0 until touched) and update time.
type item struct {
	idx     int
	version int
	at      time.Time
}

// congressFor returns the congress of item idx.
func congressFor(idx int) int { return LastCongress - idx%congressSpan }

// rest returns the part of idx left once the congress is chosen; generators
// derive the rest of the natural key from it, which keeps keys unique.
func rest(idx int) int { return idx / congressSpan }

// genFunc builds the JSON value of one item. seed mixes the fake's seed and
// the endpoint, so contents differ by seed but not by call.
type genFunc func(g gen) any

// gen carries what a generator needs.
type gen struct {
	item
	seed  uint64
	words *vocabulary
}

// hash returns a deterministic pseudo-random number for (item, salt),
// independent of the version so that touching an item changes only what
// a real update would change.
func (g gen) hash(salt uint64) uint64 {
	return mix(g.seed ^ mix(uint64(g.idx)+0x9e3779b97f4a7c15*salt))
}

func (g gen) intn(salt uint64, n int) int { return int(g.hash(salt) % uint64(n)) }

func (g gen) pick(salt uint64, list []string) string { return list[g.intn(salt, len(list))] }

// day returns a date derived from the item, before its update time.
func (g gen) day(salt uint64) string {
	back := time.Duration(g.intn(salt, 400)+1) * 24 * time.Hour
	return g.at.Add(-back).Format(time.DateOnly)
}

func (g gen) title() string {
	return fmt.Sprintf("%s %s %s Act", g.pick(11, g.words.adjectives), g.pick(12, g.words.subjects), g.pick(13, g.words.nouns))
}

func (g gen) action() *latestAction {
	text := g.pick(21, g.words.actions)
	if g.version > 0 {
		text = fmt.Sprintf("%s (update %d)", text, g.version)
	}
	la := &latestAction{ActionDate: g.at.Format(time.DateOnly), Text: text}
	if g.intn(22, 3) == 0 {
		la.ActionTime = g.at.Format(time.TimeOnly)
	}
	return la
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Update-time formats, as the real endpoints mix them (reference §3, §5).
func dateOnly(t time.Time) string { return t.UTC().Format(time.DateOnly) }
func zulu(t time.Time) string     { return t.UTC().Format("2006-01-02T15:04:05Z") }
func eastern(t time.Time) string {
	return t.In(time.FixedZone("", -4*3600)).Format(time.RFC3339)
}

// vocabulary holds the value lists generated text is drawn from. It is
// built per handler and never changed.
type vocabulary struct {
	adjectives, subjects, nouns, actions []string
	billTypes, versionCodes              []string
	states, parties, organizations       []string
}

func newVocabulary() *vocabulary {
	return &vocabulary{
		adjectives: []string{"American", "Rural", "National", "Fair", "Secure", "Modern", "Clean", "Small Business", "Veterans", "Public"},
		subjects:   []string{"Energy", "Health Care", "Water", "Broadband", "Housing", "Transit", "Education", "Data Privacy", "Agriculture", "Defense"},
		nouns:      []string{"Improvement", "Protection", "Reform", "Access", "Innovation", "Accountability", "Security", "Recovery"},
		actions: []string{
			"Referred to the House Committee on Energy and Commerce.",
			"Read twice and referred to the Committee on Finance.",
			"Placed on the Union Calendar.",
			"Became Public Law.",
			"Passed Senate without amendment by Unanimous Consent.",
			"Received in the Senate.",
		},
		billTypes:     []string{"HR", "S", "HJRES", "SJRES", "HCONRES", "SCONRES", "HRES", "SRES"},
		versionCodes:  []string{"00", "07", "17", "25", "36", "49", "55", "81"},
		states:        []string{"California", "Texas", "Ohio", "Virginia", "Georgia", "New York", "Missouri", "Alaska"},
		parties:       []string{"Democratic", "Republican", "Independent"},
		organizations: []string{"Department of State", "Department of Commerce", "Department of Defense", "Department of Justice"},
	}
}

// lower returns s in lower case (API type codes to their path form).
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func chamberOf(code string) (string, string) {
	if code[0] == 'S' {
		return "Senate", "S"
	}
	return "House", "H"
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// Item shapes. Field order is alphabetical, as the API serves it;
// omitempty marks fields the API omits when empty.
type (
	latestAction struct {
		ActionDate string `json:"actionDate"`
		ActionTime string `json:"actionTime,omitempty"`
		Text       string `json:"text"`
	}
	lawRef struct {
		Number string `json:"number"`
		Type   string `json:"type"`
	}
	billItem struct {
		Congress                int           `json:"congress"`
		IntroducedDate          string        `json:"introducedDate,omitempty"`
		LatestAction            *latestAction `json:"latestAction,omitempty"`
		Laws                    []lawRef      `json:"laws,omitempty"`
		Number                  string        `json:"number"`
		OriginChamber           string        `json:"originChamber"`
		OriginChamberCode       string        `json:"originChamberCode"`
		Title                   string        `json:"title"`
		Type                    string        `json:"type"`
		UpdateDate              string        `json:"updateDate"`
		UpdateDateIncludingText string        `json:"updateDateIncludingText"`
		URL                     string        `json:"url"`
	}
	amendmentItem struct {
		Congress     int           `json:"congress"`
		Description  string        `json:"description,omitempty"`
		LatestAction *latestAction `json:"latestAction,omitempty"`
		Number       string        `json:"number"`
		Purpose      string        `json:"purpose,omitempty"`
		Type         string        `json:"type"`
		UpdateDate   string        `json:"updateDate"`
		URL          string        `json:"url"`
	}
	summaryBill struct {
		Congress                int    `json:"congress"`
		Number                  string `json:"number"`
		OriginChamber           string `json:"originChamber"`
		OriginChamberCode       string `json:"originChamberCode"`
		Title                   string `json:"title"`
		Type                    string `json:"type"`
		UpdateDateIncludingText string `json:"updateDateIncludingText"`
		URL                     string `json:"url"`
	}
	summaryItem struct {
		ActionDate            string      `json:"actionDate"`
		ActionDesc            string      `json:"actionDesc"`
		Bill                  summaryBill `json:"bill"`
		CurrentChamber        string      `json:"currentChamber"`
		CurrentChamberCode    string      `json:"currentChamberCode"`
		LastSummaryUpdateDate string      `json:"lastSummaryUpdateDate"`
		Text                  string      `json:"text"`
		UpdateDate            string      `json:"updateDate"`
		VersionCode           string      `json:"versionCode"`
	}
	depiction struct {
		Attribution string `json:"attribution,omitempty"`
		ImageURL    string `json:"imageUrl"`
	}
	term struct {
		Chamber   string `json:"chamber"`
		EndYear   int    `json:"endYear,omitempty"`
		StartYear int    `json:"startYear"`
	}
	memberItem struct {
		BioguideID string     `json:"bioguideId"`
		Depiction  *depiction `json:"depiction,omitempty"`
		District   *int       `json:"district,omitempty"`
		Name       string     `json:"name"`
		PartyName  string     `json:"partyName"`
		State      string     `json:"state"`
		Terms      struct {
			Item []term `json:"item"`
		} `json:"terms"`
		UpdateDate string `json:"updateDate"`
		URL        string `json:"url"`
	}
	committeeRef struct {
		Name       string `json:"name"`
		SystemCode string `json:"systemCode"`
		URL        string `json:"url"`
	}
	committeeItem struct {
		Chamber           string         `json:"chamber"`
		CommitteeTypeCode string         `json:"committeeTypeCode"`
		Name              string         `json:"name"`
		Parent            *committeeRef  `json:"parent,omitempty"`
		Subcommittees     []committeeRef `json:"subcommittees,omitempty"`
		SystemCode        string         `json:"systemCode"`
		UpdateDate        string         `json:"updateDate"`
		URL               string         `json:"url"`
	}
	reportItem struct {
		Chamber    string `json:"chamber"`
		Citation   string `json:"citation"`
		CmteRptID  int    `json:"cmte_rpt_id"`
		Congress   int    `json:"congress"`
		Number     int    `json:"number"`
		Part       int    `json:"part"`
		Type       string `json:"type"`
		UpdateDate string `json:"updateDate"`
		URL        string `json:"url"`
	}
	nominationItem struct {
		Citation       string        `json:"citation"`
		Congress       int           `json:"congress"`
		Description    string        `json:"description,omitempty"`
		LatestAction   *latestAction `json:"latestAction"`
		NominationType struct {
			IsCivilian bool `json:"isCivilian,omitempty"`
			IsMilitary bool `json:"isMilitary,omitempty"`
		} `json:"nominationType"`
		Number       int    `json:"number"`
		Organization string `json:"organization"`
		PartNumber   string `json:"partNumber"`
		ReceivedDate string `json:"receivedDate"`
		UpdateDate   string `json:"updateDate"`
		URL          string `json:"url"`
	}
	treatyItem struct {
		CongressConsidered *int     `json:"congressConsidered"`
		CongressReceived   int      `json:"congressReceived"`
		Number             int      `json:"number"`
		Parts              struct{} `json:"parts"`
		Suffix             string   `json:"suffix"`
		Topic              string   `json:"topic"`
		TransmittedDate    string   `json:"transmittedDate"`
		UpdateDate         string   `json:"updateDate"`
		URL                string   `json:"url"`
	}
	hearingItem struct {
		Chamber      string `json:"chamber"`
		Congress     int    `json:"congress"`
		JacketNumber int    `json:"jacketNumber"`
		Number       int    `json:"number,omitempty"`
		Part         int    `json:"part,omitempty"`
		UpdateDate   string `json:"updateDate"`
		URL          string `json:"url"`
	}
	voteItem struct {
		AmendmentAuthor   string `json:"amendmentAuthor,omitempty"`
		AmendmentNumber   string `json:"amendmentNumber,omitempty"`
		AmendmentType     string `json:"amendmentType,omitempty"`
		Congress          int    `json:"congress"`
		Identifier        int64  `json:"identifier"`
		LegislationNumber string `json:"legislationNumber,omitempty"`
		LegislationType   string `json:"legislationType,omitempty"`
		LegislationURL    string `json:"legislationUrl,omitempty"`
		Result            string `json:"result"`
		RollCallNumber    int    `json:"rollCallNumber"`
		SessionNumber     int    `json:"sessionNumber"`
		SourceDataURL     string `json:"sourceDataURL"`
		StartDate         string `json:"startDate"`
		UpdateDate        string `json:"updateDate"`
		URL               string `json:"url"`
		VoteType          string `json:"voteType"`
	}
	session struct {
		Chamber   string `json:"chamber"`
		EndDate   string `json:"endDate,omitempty"`
		Number    int    `json:"number"`
		StartDate string `json:"startDate"`
		Type      string `json:"type"`
	}
	congressItem struct {
		EndYear    string    `json:"endYear"`
		Name       string    `json:"name"`
		Number     int       `json:"number"`
		Sessions   []session `json:"sessions"`
		StartYear  string    `json:"startYear"`
		UpdateDate string    `json:"updateDate"`
		URL        string    `json:"url"`
	}
	printItem struct {
		Chamber      string `json:"chamber"`
		Congress     int    `json:"congress"`
		JacketNumber int    `json:"jacketNumber"`
		UpdateDate   string `json:"updateDate"`
		URL          string `json:"url"`
	}
	meetingItem struct {
		Chamber    string `json:"chamber"`
		Congress   int    `json:"congress"`
		EventID    string `json:"eventId"`
		UpdateDate string `json:"updateDate"`
		URL        string `json:"url"`
	}
	communicationType struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	communicationItem struct {
		Chamber           string            `json:"chamber"`
		CommunicationType communicationType `json:"communicationType"`
		Congress          int               `json:"congress"`
		Number            int               `json:"number"`
		UpdateDate        string            `json:"updateDate"`
		URL               string            `json:"url"`
	}
	requirementItem struct {
		Number     int    `json:"number"`
		UpdateDate string `json:"updateDate"`
		URL        string `json:"url"`
	}
	crsItem struct {
		ContentType string `json:"contentType"`
		ID          string `json:"id"`
		PublishDate string `json:"publishDate"`
		Status      string `json:"status"`
		Title       string `json:"title"`
		UpdateDate  string `json:"updateDate"`
		URL         string `json:"url"`
		Version     int    `json:"version"`
	}
	dailyItem struct {
		Congress      int    `json:"congress"`
		IssueDate     string `json:"issueDate"`
		IssueNumber   string `json:"issueNumber"`
		SessionNumber int    `json:"sessionNumber"`
		UpdateDate    string `json:"updateDate"`
		URL           string `json:"url"`
		VolumeNumber  int    `json:"volumeNumber"`
	}
	section struct {
		EndPage   int    `json:"endPage"`
		Name      string `json:"name"`
		StartPage int    `json:"startPage"`
	}
	boundItem struct {
		Congress      int       `json:"congress"`
		Date          string    `json:"date"`
		Sections      []section `json:"sections"`
		SessionNumber int       `json:"sessionNumber"`
		UpdateDate    string    `json:"updateDate"`
		VolumeNumber  int       `json:"volumeNumber"`
	}
	pdfPart struct {
		Part string `json:"Part"`
		URL  string `json:"Url"`
	}
	recordLink struct {
		Label   string    `json:"Label"`
		Ordinal int       `json:"Ordinal"`
		PDF     []pdfPart `json:"PDF"`
	}
	recordIssue struct {
		Congress string `json:"Congress"`
		ID       int    `json:"Id"`
		Issue    string `json:"Issue"`
		Links    struct {
			FullRecord recordLink `json:"FullRecord"`
		} `json:"Links"`
		PublishDate string `json:"PublishDate"`
		Session     string `json:"Session"`
		Volume      string `json:"Volume"`
	}
)

// generatorFor returns the generator of a registry endpoint, or nil.
func generatorFor(name string) genFunc {
	switch name {
	case "bill", "law":
		isLaw := name == "law"
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			typ := g.words.billTypes[r%len(g.words.billTypes)]
			number := strconv.Itoa(r/len(g.words.billTypes) + 1)
			chamber, code := chamberOf(typ)
			b := billItem{
				Congress: c, LatestAction: g.action(), Number: number,
				OriginChamber: chamber, OriginChamberCode: code, Title: g.title(), Type: typ,
				UpdateDate: dateOnly(g.at), UpdateDateIncludingText: dateOnly(g.at),
				URL: fmt.Sprintf("%s/bill/%d/%s/%s?format=json", itemURLBase, c, lower(typ), number),
			}
			if isLaw {
				b.Laws = []lawRef{{Number: fmt.Sprintf("%d-%d", c, r+1), Type: "Public Law"}}
			} else {
				b.IntroducedDate = g.day(31)
			}
			if g.intn(32, 10) == 0 {
				b.Title = "" // the API serves empty titles (LOC-JAVA sample)
			}
			return b
		}
	case "amendment":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			typ := []string{"HAMDT", "SAMDT", "SUAMDT"}[r%3]
			number := strconv.Itoa(r/3 + 1)
			a := amendmentItem{
				Congress: c, Number: number, Type: typ, UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/amendment/%d/%s/%s?format=json", itemURLBase, c, lower(typ), number),
			}
			if typ == "HAMDT" { // Senate amendments often carry only the key (SPICY sample)
				a.Description = "An amendment to " + g.title() + "."
				a.LatestAction = g.action()
			}
			if g.intn(41, 2) == 0 {
				a.Purpose = "To improve the " + g.title() + "."
			}
			return a
		}
	case "summaries":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			vc := g.words.versionCodes[r%len(g.words.versionCodes)]
			r /= len(g.words.versionCodes)
			typ := g.words.billTypes[r%len(g.words.billTypes)]
			number := strconv.Itoa(r/len(g.words.billTypes) + 1)
			chamber, code := chamberOf(typ)
			return summaryItem{
				ActionDate: g.day(51), ActionDesc: "Introduced in " + chamber,
				Bill: summaryBill{
					Congress: c, Number: number, OriginChamber: chamber, OriginChamberCode: code,
					Title: g.title(), Type: typ, UpdateDateIncludingText: zulu(g.at),
					URL: fmt.Sprintf("%s/bill/%d/%s/%s?format=json", itemURLBase, c, lower(typ), number),
				},
				CurrentChamber: chamber, CurrentChamberCode: code,
				LastSummaryUpdateDate: zulu(g.at.Add(-time.Hour)),
				Text:                  fmt.Sprintf(" <p>This bill establishes the %s (version %d).</p>", g.title(), g.version),
				UpdateDate:            zulu(g.at), VersionCode: vc,
			}
		}
	case "member":
		return func(g gen) any {
			id := fmt.Sprintf("%c%06d", 'A'+g.idx%26, g.idx/26)
			m := memberItem{
				BioguideID: id, Name: fmt.Sprintf("Member%d, %s", g.idx, g.pick(61, g.words.adjectives)),
				PartyName: g.pick(62, g.words.parties), State: g.pick(63, g.words.states),
				UpdateDate: zulu(g.at), URL: fmt.Sprintf("%s/member/%s?format=json", itemURLBase, id),
			}
			start := 1789 + 2*(congressFor(g.idx)-1)
			t := term{Chamber: "Senate", StartYear: start}
			if g.intn(64, 4) != 0 {
				t.Chamber = "House of Representatives"
				d := g.intn(65, 20)
				m.District = &d
			}
			if g.intn(66, 3) == 0 {
				t.EndYear = start + 2
			}
			m.Terms.Item = []term{t}
			if g.intn(67, 5) != 0 {
				m.Depiction = &depiction{ImageURL: fmt.Sprintf("https://www.congress.gov/img/member/%s_200.jpg", lower(id))}
				if g.intn(68, 2) == 0 {
					m.Depiction.Attribution = "Image courtesy of the Member"
				}
			}
			return m
		}
	case "committee":
		return func(g gen) any {
			prefix, chamber := []string{"h", "s", "j"}[g.idx%3], []string{"House", "Senate", "Joint"}[g.idx%3]
			code := prefix + letters(g.idx) + "00"
			cm := committeeItem{
				Chamber: chamber, CommitteeTypeCode: []string{"Standing", "Select", "Other"}[g.intn(71, 3)],
				Name: g.pick(72, g.words.subjects) + " Committee", SystemCode: code, UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/committee/%s/%s?format=json", itemURLBase, lower(chamber), code),
			}
			if g.idx%5 == 4 {
				// A subcommittee listed on its own, with its parent.
				cm.SystemCode = prefix + letters(g.idx) + "10"
				cm.Name = "Subcommittee on " + g.pick(74, g.words.subjects)
				parent := prefix + letters(g.idx-1) + "00"
				cm.Parent = &committeeRef{Name: g.pick(72, g.words.subjects) + " Committee", SystemCode: parent,
					URL: fmt.Sprintf("%s/committee/%s/%s?format=json", itemURLBase, lower(chamber), parent)}
				cm.URL = fmt.Sprintf("%s/committee/%s/%s?format=json", itemURLBase, lower(chamber), cm.SystemCode)
				return cm
			}
			if g.intn(73, 3) == 0 {
				sub := prefix + letters(g.idx) + "01"
				cm.Subcommittees = []committeeRef{{
					Name: "Subcommittee on " + g.pick(74, g.words.subjects), SystemCode: sub,
					URL: fmt.Sprintf("%s/committee/%s/%s?format=json", itemURLBase, lower(chamber), sub),
				}}
			}
			return cm
		}
	case "committee-report":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			typ, chamber, abbr := "HRPT", "House", "H."
			if r%2 == 1 {
				typ, chamber, abbr = "SRPT", "Senate", "S."
			}
			n := r/2 + 1
			return reportItem{
				Chamber: chamber, Citation: fmt.Sprintf("%s Rept. %d-%d", abbr, c, n), CmteRptID: 200000 + g.idx,
				Congress: c, Number: n, Part: 1, Type: typ, UpdateDate: zulu(g.at),
				// The API emits upper-case types in these URLs (reference §1).
				URL: fmt.Sprintf("%s/committee-report/%d/%s/%d?format=json", itemURLBase, c, typ, n),
			}
		}
	case "nomination":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			number, part := r/3+1, r%3
			citation, partNumber, urlNum := fmt.Sprintf("PN%d", number), "00", strconv.Itoa(number)
			if part > 0 {
				citation = fmt.Sprintf("PN%d-%d", number, part)
				partNumber = fmt.Sprintf("%02d", part)
				urlNum = fmt.Sprintf("%d-%d", number, part)
			}
			n := nominationItem{
				Citation: citation, Congress: c, LatestAction: &latestAction{ActionDate: dateOnly(g.at), Text: g.pick(81, g.words.actions)},
				Number: number, Organization: g.pick(82, g.words.organizations), PartNumber: partNumber,
				ReceivedDate: g.day(83), UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/nomination/%d/%s?format=json", itemURLBase, c, urlNum),
			}
			if g.idx%50 == 7 { // the pre-Oct-2023 format still turns up (#113)
				n.UpdateDate = g.at.UTC().Format("2006-01-02 15:04:05+00:00")
			}
			if g.intn(84, 4) == 0 {
				n.NominationType.IsMilitary = true
			} else {
				n.NominationType.IsCivilian = true
				n.Description = fmt.Sprintf("Nominee %d, to be an Assistant Secretary.", g.idx)
			}
			return n
		}
	case "treaty":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			number, suffix := r/2+1, []string{"", "A"}[r%2]
			path := strconv.Itoa(number)
			if suffix != "" {
				path += "/" + suffix
			}
			t := treatyItem{
				CongressReceived: c, Number: number, Suffix: suffix, Topic: g.pick(91, g.words.subjects),
				TransmittedDate: g.day(92) + "T00:00:00Z", UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/treaty/%d/%s?format=json", itemURLBase, c, path),
			}
			if g.intn(93, 3) == 0 {
				considered := c
				t.CongressConsidered = &considered
			}
			return t
		}
	case "hearing":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			chamber := []string{"House", "Senate"}[r%2]
			jacket := 10000 + r/2
			h := hearingItem{
				Chamber: chamber, Congress: c, JacketNumber: jacket, UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/hearing/%d/%s/%d", itemURLBase, c, lower(chamber), jacket),
			}
			if g.intn(101, 3) == 0 {
				h.Number, h.Part = g.intn(102, 500)+1, 1
			}
			return h
		}
	case "house-vote":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			sess, roll := r%2+1, r/2+1
			year := 1789 + 2*(c-1) + sess - 1
			v := voteItem{
				Congress: c, Identifier: int64(c)*100_000_000 + int64(sess)*10_000_000 + int64(year)*1000 + int64(roll%1000),
				Result: []string{"Passed", "Failed", "Agreed to"}[g.intn(111, 3)], RollCallNumber: roll, SessionNumber: sess,
				SourceDataURL: fmt.Sprintf("https://clerk.house.gov/evs/%d/roll%03d.xml", year, roll),
				StartDate:     eastern(g.at.Add(-24 * time.Hour)), UpdateDate: eastern(g.at),
				URL:      fmt.Sprintf("%s/house-vote/%d/%d/%d", itemURLBase, c, sess, roll),
				VoteType: []string{"Yea-and-Nay", "2/3 Yea-And-Nay", "Recorded Vote"}[g.intn(112, 3)],
			}
			if g.intn(113, 4) == 0 {
				v.AmendmentType, v.AmendmentNumber, v.AmendmentAuthor = "HAMDT", strconv.Itoa(g.intn(114, 900)+1), "Rep. Example"
			} else {
				v.LegislationType, v.LegislationNumber = "HR", strconv.Itoa(g.intn(115, 9000)+1)
				v.LegislationURL = fmt.Sprintf("https://www.congress.gov/bill/%d/house-bill/%s", c, v.LegislationNumber)
			}
			return v
		}
	case "congress":
		return func(g gen) any {
			n := LastCongress - g.idx
			start := 1789 + 2*(n-1)
			return congressItem{
				EndYear: strconv.Itoa(start + 1), Name: ordinal(n) + " Congress", Number: n,
				Sessions: []session{
					{Chamber: "House of Representatives", Number: 1, StartDate: fmt.Sprintf("%d-01-03", start), Type: "R"},
					{Chamber: "Senate", Number: 1, StartDate: fmt.Sprintf("%d-01-03", start), Type: "R"},
				},
				StartYear: strconv.Itoa(start), UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/congress/%d?format=json", itemURLBase, n),
			}
		}
	case "committee-print":
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			chamber := []string{"House", "Senate", "NoChamber"}[r%3]
			jacket := 60000 + r/3
			return printItem{
				Chamber: chamber, Congress: c, JacketNumber: jacket, UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/committee-print/%d/%s/%d?format=json", itemURLBase, c, lower(chamber), jacket),
			}
		}
	case "committee-meeting":
		return func(g gen) any {
			c := congressFor(g.idx)
			chamber := []string{"House", "Senate"}[rest(g.idx)%2]
			id := strconv.Itoa(100000 + g.idx)
			return meetingItem{
				Chamber: chamber, Congress: c, EventID: id, UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/committee-meeting/%d/%s/%s?format=json", itemURLBase, c, lower(chamber), id),
			}
		}
	case "house-communication", "senate-communication":
		house := name == "house-communication"
		return func(g gen) any {
			c, r := congressFor(g.idx), rest(g.idx)
			types := []communicationType{{"EC", "Executive Communication"}, {"PM", "Presidential Message"}, {"POM", "Petition or Memorial"}}
			chamber, updated := "Senate", zulu(g.at)
			if house {
				types = []communicationType{{"EC", "Executive Communication"}, {"ML", "Memorial"}, {"PM", "Presidential Message"}, {"PT", "Petition"}}
				chamber, updated = "House", dateOnly(g.at)
			}
			ct := types[r%len(types)]
			n := r/len(types) + 1
			return communicationItem{
				Chamber: chamber, CommunicationType: ct, Congress: c, Number: n, UpdateDate: updated,
				URL: fmt.Sprintf("%s/%s/%d/%s/%d?format=json", itemURLBase, name, c, lower(ct.Code), n),
			}
		}
	case "house-requirement":
		return func(g gen) any {
			return requirementItem{
				Number: g.idx + 1, UpdateDate: dateOnly(g.at),
				URL: fmt.Sprintf("%s/house-requirement/%d?format=json", itemURLBase, g.idx+1),
			}
		}
	case "crsreport":
		return func(g gen) any {
			prefix := []string{"R", "RL", "IF", "LSB"}[g.idx%4]
			id := fmt.Sprintf("%s%05d", prefix, 10000+g.idx/4)
			return crsItem{
				ContentType: []string{"Reports", "Posts"}[g.idx%4/3], ID: id, PublishDate: g.day(121) + "T04:00:00Z",
				Status: "Active", Title: g.title() + ": Overview", UpdateDate: zulu(g.at),
				URL: fmt.Sprintf("%s/crsreport/%s", itemURLBase, id), Version: g.version + 1,
			}
		}
	case "daily-congressional-record":
		return func(g gen) any {
			vol, issue := 150+g.idx/200, strconv.Itoa(g.idx%200+1)
			return dailyItem{
				Congress: congressFor(g.idx), IssueDate: g.day(131) + "T04:00:00Z", IssueNumber: issue,
				SessionNumber: g.idx%2 + 1, UpdateDate: zulu(g.at),
				URL:          fmt.Sprintf("%s/daily-congressional-record/%d/%s?format=json", itemURLBase, vol, issue),
				VolumeNumber: vol,
			}
		}
	case "bound-congressional-record":
		return func(g gen) any {
			day := time.Date(1873, 3, 4, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.idx)
			start := g.intn(141, 9000) + 1
			return boundItem{
				Congress: 43 + (day.Year()-1873)/2, Date: day.Format(time.DateOnly),
				Sections:      []section{{EndPage: start + 40, Name: "Entire Issue", StartPage: start}},
				SessionNumber: day.Year()%2 + 1, UpdateDate: dateOnly(g.at), VolumeNumber: 1 + g.idx/365,
			}
		}
	case "congressional-record":
		return func(g gen) any {
			day := g.at.AddDate(0, 0, -1)
			var ri recordIssue
			ri.Congress, ri.ID, ri.Issue = strconv.Itoa(congressFor(g.idx)), 20000+g.idx, strconv.Itoa(g.idx%200+1)
			ri.PublishDate, ri.Session, ri.Volume = day.Format(time.DateOnly), strconv.Itoa(g.idx%2+1), strconv.Itoa(150+g.idx/200)
			ri.Links.FullRecord = recordLink{Label: "Entire Issue", Ordinal: 5, PDF: []pdfPart{{
				Part: "1", URL: fmt.Sprintf("https://www.congress.gov/crec/%s/CREC-%s.pdf", day.Format("2006/01/02"), day.Format(time.DateOnly)),
			}}}
			return ri
		}
	}
	return nil
}

// letters encodes n in four lower-case letters (unique below 26^4).
func letters(n int) string {
	b := []byte("aaaa")
	for i := 3; i >= 0 && n > 0; i-- {
		b[i] = byte('a' + n%26)
		n /= 26
	}
	return string(b)
}

// segmentFor returns the path segment an item of endpoint name falls under
// below its congress path (/bill/119/hr, /house-vote/119/1), or nil when
// the fake serves no such sub-lists for it.
func segmentFor(name string) func(idx int) string {
	types := newVocabulary().billTypes
	billType := func(r int) string { return lower(types[r%len(types)]) }
	switch name {
	case "bill":
		return func(idx int) string { return billType(rest(idx)) }
	case "law":
		return func(int) string { return "pub" } // every generated law is public
	case "amendment":
		return func(idx int) string { return []string{"hamdt", "samdt", "suamdt"}[rest(idx)%3] }
	case "summaries":
		return func(idx int) string { return billType(rest(idx) / 8) }
	case "committee-report":
		return func(idx int) string { return []string{"hrpt", "srpt"}[rest(idx)%2] }
	case "house-vote":
		return func(idx int) string { return strconv.Itoa(rest(idx)%2 + 1) }
	case "hearing", "committee-meeting":
		return func(idx int) string { return []string{"house", "senate"}[rest(idx)%2] }
	case "committee-print":
		return func(idx int) string { return []string{"house", "senate", "nochamber"}[rest(idx)%3] }
	case "house-communication":
		return func(idx int) string { return []string{"ec", "ml", "pm", "pt"}[rest(idx)%4] }
	case "senate-communication":
		return func(idx int) string { return []string{"ec", "pm", "pom"}[rest(idx)%3] }
	}
	return nil
}

// servedUnit is the granularity of the update times an endpoint serves:
// a day where the generator writes dates only, else a second.
func servedUnit(name string) time.Duration {
	switch name {
	case "bill", "law", "house-communication", "house-requirement", "bound-congressional-record":
		return 24 * time.Hour
	}
	return time.Second
}
