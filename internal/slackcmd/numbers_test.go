package slackcmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// answer runs text through the handler's one answer path at now and returns
// the reply as JSON.
func answer(t *testing.T, h *Handler, now time.Time, text string) string {
	t.Helper()
	rep, ok := h.run(context.Background(), slack.SlashCommand{Text: text}, parseCommand(text), h.snap.Load(), now)
	if !ok {
		t.Fatalf("/costbot %s: error reply %q", text, rep.Text)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkReply(t *testing.T, got string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, jsonEscape(w)) {
			t.Errorf("reply lacks %q", w)
		}
	}
	for _, n := range not {
		if strings.Contains(got, jsonEscape(n)) {
			t.Errorf("reply has %q", n)
		}
	}
	if t.Failed() {
		t.Logf("reply: %s", got)
	}
}

// flatData is one account spending exactly $10 a day on one service for the
// 90 days before testNow's day; today has no data yet, as in production.
func flatData() Data {
	end := cost.Day(testNow)
	var usage []cost.Usage
	for i := 90; i >= 1; i-- {
		d := end.AddDate(0, 0, -i)
		bp := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		usage = append(usage, cost.Usage{Account: prodID, Service: "Workers Standard Requests", Family: "Workers", Day: d,
			BillingPeriod: cost.Period{Start: bp, End: bp.AddDate(0, 1, 0)}, Cost: 10, CostKnown: true, Currency: "USD"})
	}
	return Data{Accounts: []cost.Account{{ID: prodID, Name: "production"}}, Usage: usage, FetchedAt: testNow, Interval: time.Hour}
}

// Windows count complete days only: a flat series shows no change, and
// "today" (never in yet) shows yesterday and says so.
func TestSpend_CompleteDays(t *testing.T) {
	tests := []struct {
		text      string
		want, not []string
	}{
		{"spend 7d", []string{"$70.00", "18 Nov – 24 Nov 2026", "$70.00 (+0.0%)", "Daily average*\n$10.00"}, []string{"-14", "-13"}},
		{"spend 30d", []string{"$300.00 (+0.0%)"}, nil},
		{"spend today", []string{"Today's data is not in yet", "showing 24 Nov 2026", "Spend · all accounts · yesterday", "Spent*\n$10.00", "$10.00 (+0.0%)"}, []string{"-100%", "$0.00"}},
		{"spend yesterday", []string{"Spent*\n$10.00", "(+0.0%)"}, nil},
		{"spend mtd", []string{"Spent*\n$240.00", "1 Nov – 24 Nov 2026", "$240.00 (+0.0%)"}, nil},
		{"top", []string{"Top movers* vs 11 Nov – 17 Nov 2026: no change", "total $70.00"}, []string{"-$10.00"}},
	}
	h, _ := newTestHandler(t, Options{})
	h.SetData(flatData())
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			checkReply(t, answer(t, h, testNow, tt.text), tt.want, tt.not)
		})
	}
	t.Run("lagging data", func(t *testing.T) {
		// Two days later with no new data: the window still ends with the
		// newest complete day, and the reply says so.
		later := testNow.AddDate(0, 0, 2)
		checkReply(t, answer(t, h, later, "spend 7d"),
			[]string{"$70.00 (+0.0%)", "18 Nov – 24 Nov 2026", "The newest data is for Tue 24 Nov"}, nil)
	})
}

// anchored is testData with invoices anchored on the 15th, so the billing
// period differs from the calendar month.
func anchored() Data {
	d := testData()
	for i := range d.Usage {
		day := d.Usage[i].Day
		s := time.Date(day.Year(), day.Month(), 15, 0, 0, 0, 0, time.UTC)
		if day.Day() < 15 {
			s = s.AddDate(0, -1, 0)
		}
		d.Usage[i].BillingPeriod = cost.Period{Start: s, End: s.AddDate(0, 1, 0)}
	}
	return d
}

// /costbot forecast shows what the budget rules compute for the same scope
// and billing period, formatted the same way /costbot budgets shows it.
func TestForecast_MatchesBudgetRules(t *testing.T) {
	set, err := rules.Parse("budgets.yaml", []byte(`
budgets:
  - {name: prod-total, scope: {account: production}, period: billing_period, amount: 3000, currency: USD,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
  - {name: workers, scope: {account: "*", family: Workers}, period: billing_period, amount: 2000, currency: USD,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
  - {name: argo, scope: {account: production, service: Argo Smart Routing}, period: billing_period, amount: 300, currency: USD,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := anchored()
	statuses := set.Budgets(rules.Input{Now: testNow, Accounts: d.Accounts, Usage: d.Usage})
	byRule := map[string][]cost.BudgetStatus{}
	for _, st := range statuses {
		byRule[st.Rule] = append(byRule[st.Rule], st)
	}
	if len(byRule["prod-total"]) != 1 || len(byRule["workers"]) != 2 || len(byRule["argo"]) != 1 {
		t.Fatalf("budget statuses: %+v", statuses)
	}
	sum := func(sts []cost.BudgetStatus) (actual, forecast float64) {
		for _, st := range sts {
			actual += st.Actual
			forecast += st.Forecast
		}
		return
	}
	d.Budgets = statuses
	h, _ := newTestHandler(t, Options{})
	h.SetData(d)
	budgets := answer(t, h, testNow, "budgets")
	tests := []struct{ text, rule string }{
		{"forecast production", "prod-total"},
		{"forecast family:workers", "workers"},
		{"forecast argo smart", "argo"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			actual, forecast := sum(byRule[tt.rule])
			per := cost.FormatPeriod(byRule[tt.rule][0].Period)
			if per != "15 Nov – 14 Dec 2026" {
				t.Fatalf("budget period %s, want the billing period", per)
			}
			got := answer(t, h, testNow, tt.text)
			checkReply(t, got, []string{
				"Forecast for the billing period*\n" + cost.Money(forecast, "USD"),
				"Spent so far*\n" + cost.Money(actual, "USD"),
				"Forecast · ", per,
			}, []string{"November 2026", "run rate"})
			if len(byRule[tt.rule]) == 1 {
				// The same figure, formatted the same way, as /costbot budgets.
				checkReply(t, budgets, []string{"forecast " + cost.Money(forecast, "USD"), cost.Money(actual, "USD"), per}, nil)
			}
		})
	}
}

func TestForecast_NoForecastFunc(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	h.forecast = nil
	rep, ok := h.run(context.Background(), slack.SlashCommand{Text: "forecast"}, parseCommand("forecast"), h.snap.Load(), testNow)
	if ok || !strings.Contains(rep.Text, "Forecasts are not available") {
		t.Errorf("reply %q, ok %v", rep.Text, ok)
	}
}

// mixedData bills staging in EUR: no reply may add euros to dollars.
func mixedData() Data {
	d := testData()
	for i := range d.Usage {
		if d.Usage[i].Account == stagingID {
			d.Usage[i].Currency = "EUR"
		}
	}
	return d
}

func TestMixedCurrencies_NeverSummed(t *testing.T) {
	d := mixedData()
	today := cost.Day(testNow)
	mtd := cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: today}
	var usd, eur, workersEUR float64
	for _, u := range d.Usage {
		if !mtd.Contains(u.Day) {
			continue
		}
		if u.Currency == "EUR" {
			eur += u.Cost
			if u.Family == "Workers" {
				workersEUR += u.Cost
			}
		} else {
			usd += u.Cost
		}
	}
	h, _ := newTestHandler(t, Options{})
	h.SetData(d)
	tests := []struct {
		text      string
		want, not []string
	}{
		{"spend", []string{"currency mismatch", "EUR, USD", "Spent in USD*\n" + cost.Money(usd, "USD"), "Spent in EUR*\n" + cost.Money(eur, "EUR")},
			[]string{cost.Money(usd+eur, "USD"), cost.Money(usd+eur, "EUR"), "data_visualization"}},
		{"spend workers", []string{"currency mismatch", "Spent in EUR*\n" + cost.Money(workersEUR, "EUR")}, nil},
		{"spend production", []string{"Spent*\n$"}, []string{"currency mismatch", "€"}},
		{"spend staging", []string{"Spent*\n€"}, []string{"currency mismatch", "$"}},
		{"top", []string{"Top 3 by cost in EUR", "Top 5 by cost in USD", "total €78.62, $690.26", "currency mismatch"}, nil},
		{"forecast", []string{"No total: currency mismatch", "€", "$"}, []string{"Forecast for the billing period*"}},
		{"forecast production", []string{"Forecast for the billing period*\n$"}, []string{"€"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			checkReply(t, answer(t, h, testNow, tt.text), tt.want, tt.not)
		})
	}
}

// /costbot card warns at the card rules' stages (30/7/1 days by default),
// with their severity, and nowhere else.
func TestCard_FollowsCardRules(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		warnDays  string
		expiry    [2]int // month, year of the production card
		now       time.Time
		want, not []string
	}{
		{"36 days: no stage yet", "", [2]int{12, 2026}, testNow, []string{"36 d"}, []string{"expires in", ":large_yellow_circle:"}},
		{"29 days: 30-day stage", "", [2]int{12, 2026}, at(2026, 12, 2, 12), []string{":information_source:", "expires in 29 days", "card<=30d"}, nil},
		{"5 days: 7-day stage", "", [2]int{11, 2026}, testNow, []string{":large_yellow_circle:", "expires in 5 days", "card<=7d"}, nil},
		{"hours: 1-day stage", "", [2]int{11, 2026}, at(2026, 11, 30, 12), []string{":red_circle:", "less than a day", "card<=1d"}, nil},
		{"expired", "", [2]int{10, 2026}, testNow, []string{":red_circle:", "has expired", "EXPIRED"}, nil},
		{"custom 60-day stage", "[60]", [2]int{12, 2026}, testNow, []string{"expires in 36 days", "card<=60d"}, nil},
		{"custom stages, none due", "[14, 3]", [2]int{12, 2026}, testNow, nil, []string{"expires in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, Options{})
			d := testData()
			d.CardStages = ruleCards(tt.warnDays)
			d.Cards[0].ExpiryMonth, d.Cards[0].ExpiryYear = tt.expiry[0], tt.expiry[1]
			h.SetData(d)
			checkReply(t, answer(t, h, tt.now, "card"), tt.want, tt.not)
		})
	}
}
