package fakecf

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/costbot/costbot/internal/cost"
)

const (
	dateLayout = "2006-01-02"
	provider   = "Cloudflare, Inc."
)

type period struct{ start, end time.Time }

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// periodOf is the billing period containing day (cost.BillingPeriod: from
// the anchor date in its month, clamped to month end, to the next one).
func periodOf(day time.Time, anchorDay int) period {
	p := cost.BillingPeriod(day, anchorDay)
	return period{start: p.Start, end: p.End}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ident turns a display name into an id like "workers_standard_requests".
func ident(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// hexID is a stable 32-hex id derived from name (zone ids, profile ids).
func hexID(name string) *string {
	if name == "" {
		return nil
	}
	var h uint64 = 1469598103934665603
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	s := hex64(h) + hex64(h*31+7)
	return &s
}

func hex64(x uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[x&15]
		x >>= 4
	}
	return string(b)
}

func (a *account) lastDay() time.Time {
	if len(a.rows) == 0 {
		return utcDay(time.Now())
	}
	return a.rows[len(a.rows)-1].Day.Day
}

func (s *Server) profile(w http.ResponseWriter, _ *http.Request, a *account) {
	res := map[string]any{
		"id":             *hexID("profile/" + a.ID),
		"account_type":   "type",
		"balance":        "0.00",
		"company":        a.Name,
		"country":        "US",
		"next_bill_date": ts(periodOf(a.lastDay(), a.anchorDay).end),
		"payment_email":  "billing@example.com",
		"primary_email":  "owner@example.com",
		"use_legacy":     false,
	}
	if a.CardMonth != 0 {
		res["card_expiry_month"] = a.CardMonth
		res["card_expiry_year"] = a.CardYear
		res["card_number"] = "************4242"
	}
	writeOK(w, res)
}

func (s *Server) payGoInfo(w http.ResponseWriter, _ *http.Request, a *account) {
	anchor := a.Anchor
	if anchor.IsZero() {
		anchor = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	writeOK(w, map[string]any{
		"covered": true,
		"subscriptions": []map[string]any{{
			"billing_cycle_anchor_timestamp": ts(anchor),
			"id":                             "7QK2M4XW9PLD5RT8HJ3C6VNB1E",
			"start_timestamp":                ts(anchor),
		}},
	})
}

// v1Row is the newest (superset) PayGo v1 row shape.
type v1Row struct {
	BilledCost               float64 `json:"BilledCost"`
	BillingAccountID         string  `json:"BillingAccountId"`
	BillingAccountName       string  `json:"BillingAccountName"`
	BillingCurrency          string  `json:"BillingCurrency"`
	BillingPeriodStart       string  `json:"BillingPeriodStart"`
	ChargeCategory           string  `json:"ChargeCategory"`
	ChargeClass              *string `json:"ChargeClass"`
	ChargeDescription        string  `json:"ChargeDescription"`
	ChargePeriodEnd          string  `json:"ChargePeriodEnd"`
	ChargePeriodStart        string  `json:"ChargePeriodStart"`
	ConsumedQuantity         float64 `json:"ConsumedQuantity"`
	ConsumedUnit             string  `json:"ConsumedUnit"`
	ContractedCost           float64 `json:"ContractedCost"`
	CumulatedContractedCost  float64 `json:"CumulatedContractedCost"`
	CumulatedPricingQuantity int64   `json:"CumulatedPricingQuantity"`
	EffectiveCost            float64 `json:"EffectiveCost"`
	HostProviderName         string  `json:"HostProviderName"`
	InvoiceIssuerName        string  `json:"InvoiceIssuerName"`
	ListCost                 float64 `json:"ListCost"`
	PricingQuantity          int64   `json:"PricingQuantity"`
	PricingUnit              string  `json:"PricingUnit"`
	ServiceFamilyName        *string `json:"ServiceFamilyName"`
	ServiceName              string  `json:"ServiceName"`
	ServiceProviderName      string  `json:"ServiceProviderName"`
	SubscriptionID           string  `json:"SubscriptionId"`
	ZoneID                   *string `json:"ZoneId"`
	ZoneName                 *string `json:"ZoneName"`
}

func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// payGo serves v1 usage: from/to are inclusive dates; a range without the
// anchor day yields an empty result.
func (s *Server) payGo(w http.ResponseWriter, r *http.Request, a *account) {
	q := r.URL.Query()
	last := a.lastDay()
	from, to := periodOf(last, a.anchorDay).start, last
	if v := q.Get("to"); v != "" {
		t, ok := parseDate(v)
		if !ok {
			badRequest(w)
			return
		}
		to = t
		from = periodOf(to, a.anchorDay).start
	}
	if v := q.Get("from"); v != "" {
		t, ok := parseDate(v)
		if !ok {
			badRequest(w)
			return
		}
		from = t
	}
	if to.Before(from) || to.Sub(from) > 400*24*time.Hour {
		badRequest(w)
		return
	}
	rows := []v1Row{}
	if !containsAnchor(from, to, a.anchorDay) {
		writeOK(w, rows)
		return
	}
	for _, d := range a.rows {
		if d.Day.Day.Before(from) || d.Day.Day.After(to) {
			continue
		}
		pq := pricingQuantity(d.Quantity)
		rows = append(rows, v1Row{
			BilledCost:               d.Cost,
			BillingAccountID:         a.ID,
			BillingAccountName:       a.Name,
			BillingCurrency:          a.Currency,
			BillingPeriodStart:       ts(d.period.start),
			ChargeCategory:           "Usage",
			ChargeDescription:        d.Service + " usage measured in " + d.Unit,
			ChargePeriodEnd:          ts(d.Day.Day.AddDate(0, 0, 1)),
			ChargePeriodStart:        ts(d.Day.Day),
			ConsumedQuantity:         d.Quantity,
			ConsumedUnit:             d.Unit,
			ContractedCost:           d.Cost,
			CumulatedContractedCost:  d.cumCost,
			CumulatedPricingQuantity: d.cumPricing,
			EffectiveCost:            d.Cost,
			HostProviderName:         provider,
			InvoiceIssuerName:        provider,
			ListCost:                 d.Cost,
			PricingQuantity:          pq,
			PricingUnit:              d.Unit,
			ServiceFamilyName:        strPtr(d.Family),
			ServiceName:              d.Service,
			ServiceProviderName:      provider,
			SubscriptionID:           "7QK2M4XW9PLD5RT8HJ3C6VNB1E",
			ZoneID:                   hexID(d.Zone),
			ZoneName:                 strPtr(d.Zone),
		})
	}
	writeOK(w, rows)
}

// containsAnchor reports whether some day in [from, to] starts a billing period.
func containsAnchor(from, to time.Time, anchorDay int) bool {
	p := periodOf(from, anchorDay)
	if p.start.Equal(from) {
		return true
	}
	return !p.end.After(to)
}

// v2Row is a usage v2 (FOCUS 1.3) row with costs populated.
type v2Row struct {
	BilledCost          float64 `json:"BilledCost"`
	BillingAccountID    string  `json:"BillingAccountId"`
	BillingAccountName  string  `json:"BillingAccountName"`
	BillingCurrency     string  `json:"BillingCurrency"`
	BillingPeriodEnd    string  `json:"BillingPeriodEnd"`
	BillingPeriodStart  string  `json:"BillingPeriodStart"`
	ChargeCategory      string  `json:"ChargeCategory"`
	ChargeClass         *string `json:"ChargeClass"`
	ChargeDescription   string  `json:"ChargeDescription"`
	ChargeFrequency     string  `json:"ChargeFrequency"`
	ChargePeriodEnd     string  `json:"ChargePeriodEnd"`
	ChargePeriodStart   string  `json:"ChargePeriodStart"`
	ConsumedQuantity    float64 `json:"ConsumedQuantity"`
	ConsumedUnit        string  `json:"ConsumedUnit"`
	ContractedCost      float64 `json:"ContractedCost"`
	ContractedUnitPrice float64 `json:"ContractedUnitPrice"`
	EffectiveCost       float64 `json:"EffectiveCost"`
	HostProviderName    string  `json:"HostProviderName"`
	InvoiceIssuerName   string  `json:"InvoiceIssuerName"`
	ListCost            float64 `json:"ListCost"`
	ListUnitPrice       float64 `json:"ListUnitPrice"`
	PricingQuantity     int64   `json:"PricingQuantity"`
	PricingUnit         string  `json:"PricingUnit"`
	RegionID            *string `json:"RegionId"`
	RegionName          *string `json:"RegionName"`
	ServiceProviderName string  `json:"ServiceProviderName"`
	SubAccountID        string  `json:"SubAccountId"`
	SubAccountName      string  `json:"SubAccountName"`
	BillableMetricID    string  `json:"x_BillableMetricId"`
	BillableMetricName  string  `json:"x_BillableMetricName"`
	ProductCategoryName string  `json:"x_ProductCategoryName"`
	ProductFamilyID     *string `json:"x_ProductFamilyId"`
	ProductFamilyName   *string `json:"x_ProductFamilyName"`
	ZoneID              *string `json:"x_ZoneId,omitempty"`
	ZoneName            *string `json:"x_ZoneName,omitempty"`
}

// v2CostFields are the cost columns Cloudflare documents as not yet
// populated in usage v2.
var v2CostFields = []string{"BilledCost", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice"}

// focusResult is the v2 result as sent: with Account.UsageOnly, the cost
// columns are left out of every row, as Cloudflare sends them today.
func (a *account) focusResult(rows []v2Row) any {
	if !a.UsageOnly {
		return rows
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		b, _ := json.Marshal(r)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for _, k := range v2CostFields {
			delete(m, k)
		}
		out[i] = m
	}
	return out
}

func (a *account) focusRows(from, to time.Time, metrics map[string]bool) []v2Row {
	rows := []v2Row{}
	for _, d := range a.rows {
		if d.Day.Day.Before(from) || !d.Day.Day.Before(to) {
			continue
		}
		id := ident(d.Service)
		if len(metrics) > 0 && !metrics[id] {
			continue
		}
		pq := pricingQuantity(d.Quantity)
		var unitPrice float64
		if pq != 0 {
			unitPrice = d.Cost / float64(pq)
		}
		var famID *string
		if d.Family != "" {
			famID = strPtr(ident(d.Family))
		}
		rows = append(rows, v2Row{
			BilledCost:          d.Cost,
			BillingAccountID:    a.ID,
			BillingAccountName:  a.Name,
			BillingCurrency:     a.Currency,
			BillingPeriodEnd:    ts(d.period.end),
			BillingPeriodStart:  ts(d.period.start),
			ChargeCategory:      "Usage",
			ChargeDescription:   d.Service + " — daily usage",
			ChargeFrequency:     "Usage-Based",
			ChargePeriodEnd:     ts(d.Day.Day.AddDate(0, 0, 1)),
			ChargePeriodStart:   ts(d.Day.Day),
			ConsumedQuantity:    d.Quantity,
			ConsumedUnit:        d.Unit,
			ContractedCost:      d.Cost,
			ContractedUnitPrice: unitPrice,
			EffectiveCost:       d.Cost,
			HostProviderName:    "Cloudflare",
			InvoiceIssuerName:   "Cloudflare",
			ListCost:            d.Cost,
			ListUnitPrice:       unitPrice,
			PricingQuantity:     pq,
			PricingUnit:         d.Unit,
			ServiceProviderName: "Cloudflare",
			SubAccountID:        "5b0c2f64-3d1e-4f7a-9c21-8e4d6a7b9f10",
			SubAccountName:      "Workers Paid",
			BillableMetricID:    id,
			BillableMetricName:  d.Service,
			ProductCategoryName: "Developer",
			ProductFamilyID:     famID,
			ProductFamilyName:   strPtr(d.Family),
			ZoneID:              hexID(d.Zone),
			ZoneName:            strPtr(d.Zone),
		})
	}
	return rows
}

// focusGet serves GET v2: from and to (dates) both or neither, [from, to),
// at most MaxFocusDays.
func (s *Server) focusGet(w http.ResponseWriter, r *http.Request, a *account) {
	q := r.URL.Query()
	fs, ts := q.Get("from"), q.Get("to")
	var from, to time.Time
	switch {
	case fs == "" && ts == "":
		last := a.lastDay()
		from = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
		to = last.AddDate(0, 0, 1)
	case fs == "" || ts == "":
		badRequest(w)
		return
	default:
		var ok1, ok2 bool
		from, ok1 = parseDate(fs)
		to, ok2 = parseDate(ts)
		if !ok1 || !ok2 {
			badRequest(w)
			return
		}
	}
	if !validRange(from, to) {
		badRequest(w)
		return
	}
	writeOK(w, a.focusResult(a.focusRows(from, to, nil)))
}

func validRange(from, to time.Time) bool {
	return from.Before(to) && to.Sub(from) <= MaxFocusDays*24*time.Hour
}

// focusBody is the documented POST body; unknown fields are rejected.
type focusBody struct {
	TimePeriod struct {
		From string `json:"From"`
		To   string `json:"To"`
	} `json:"TimePeriod"`
	FilterBy *struct {
		BillableMetricIDs []string `json:"BillableMetricIds"`
	} `json:"FilterBy"`
	GroupBy []struct {
		Type string `json:"Type"`
		Key  string `json:"Key"`
	} `json:"GroupBy"`
}

// focusPost serves POST v2 with a JSON filter body. GroupBy is validated
// but rows are returned ungrouped.
func (s *Server) focusPost(w http.ResponseWriter, r *http.Request, a *account) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var b focusBody
	if err := dec.Decode(&b); err != nil {
		badRequest(w)
		return
	}
	from, err1 := time.Parse(time.RFC3339, b.TimePeriod.From)
	to, err2 := time.Parse(time.RFC3339, b.TimePeriod.To)
	if err1 != nil || err2 != nil || !validRange(from, to) || len(b.GroupBy) > 2 {
		badRequest(w)
		return
	}
	for _, g := range b.GroupBy {
		if (g.Type != "TAG" && g.Type != "DIMENSION") || g.Key == "" {
			badRequest(w)
			return
		}
	}
	var metrics map[string]bool
	if b.FilterBy != nil {
		if len(b.FilterBy.BillableMetricIDs) > 20 {
			badRequest(w)
			return
		}
		metrics = map[string]bool{}
		for _, id := range b.FilterBy.BillableMetricIDs {
			metrics[id] = true
		}
	}
	writeOK(w, a.focusResult(a.focusRows(from.UTC(), to.UTC(), metrics)))
}
