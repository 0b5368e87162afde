// Package demo builds costbot's deterministic demo account, served by
// fakecf for `costbot demo` so that every shipped rule has something to fire
// on.
//
// The account (ID AccountID, name "production", USD) has 8 services over
// HistoryDays = 100 days ending with the last complete UTC day before now
// (usage data lags a day). Each series has weekday seasonality (Saturday
// x0.75, Sunday x0.70), slow growth (about +0.15% a day, +16% over the
// history) and multiplicative log-normal noise. Noise is seeded from the
// calendar date, so the same now always gives the same data and a given day
// looks the same from one run to the next.
//
// The scenario:
//
//   - Billing period: the billing-cycle anchor is the day of month of now
//     minus 18 days, so now falls on day 19 of the current period and 18
//     complete days are in; anchors that would land on the 29th-31st are
//     kept at the 28th (then 19-21 days are in).
//   - Budget crossing: the "Workers*" services (Workers Standard Requests,
//     Workers CPU ms, Workers KV Reads) total WorkersPeriodToDate = $236 in
//     the period so far, about $13/day: 94% of a WorkersBudget = $250
//     per-period budget, past 50% and 80%, and a run-rate forecast of about
//     $390 for a 30-day period. The Workers family alone (without KV) is
//     $216 (86%). The whole account spends about $60/day.
//   - Spike: R2 Class A Operations runs at about $6/day with 2% noise for 99
//     days, then the last complete day costs 5x that (about $30, an impact
//     of about $24).
//   - Card: the card on the billing profile expires at the end of now's
//     month, so at most 31 days (usually well under) after now.
package demo

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

// Demo account facts.
const (
	AccountID   = "9a7806061c88ada191ed06f989cc3dac"
	AccountName = "production"
	Currency    = "USD"
	// Token is the API token the demo fake accepts ("Authorization: Bearer").
	Token = "costbot-demo-token"
	// HistoryDays is the number of days of usage.
	HistoryDays = 100
	// WorkersBudget is the per-billing-period budget (USD) the Workers
	// scenario is built against.
	WorkersBudget = 250.0
	// WorkersPeriodToDate is the "Workers*" spend (USD) in the current
	// billing period up to the last complete day.
	WorkersPeriodToDate = 236.0
	// SpikeFactor is how much R2 Class A Operations jumps on the last day.
	SpikeFactor = 5.0
)

type series struct {
	service, family, zone, unit string
	daily                       float64 // typical cost per day, USD
	unitPrice                   float64 // USD per unit
	noise                       float64 // log-normal sigma
	weekly                      bool    // weekends lower
	ptd                         float64 // when > 0, scale to this period-to-date total
	spike                       bool
}

var catalog = []series{
	{service: "Workers Standard Requests", family: "Workers", unit: "Requests", daily: 8.3, unitPrice: 0.30e-6, noise: 0.06, weekly: true, ptd: 150},
	{service: "Workers CPU ms", family: "Workers", unit: "CPU ms", daily: 3.7, unitPrice: 0.02e-6, noise: 0.06, weekly: true, ptd: 66},
	{service: "Workers KV Reads", family: "Workers KV", unit: "Reads", daily: 1.1, unitPrice: 0.50e-6, noise: 0.08, weekly: true, ptd: 20},
	{service: "R2 Class A Operations", family: "R2", unit: "Operations", daily: 6, unitPrice: 4.50e-6, noise: 0.02, spike: true},
	{service: "R2 Storage", family: "R2", unit: "GB-month", daily: 10, unitPrice: 0.015 / 30, noise: 0.01},
	{service: "D1 Rows Read", family: "D1", unit: "Rows", daily: 5, unitPrice: 0.001e-6, noise: 0.08, weekly: true},
	{service: "Stream Minutes Delivered", family: "Stream", zone: "video.example.com", unit: "Minutes", daily: 15, unitPrice: 1.0 / 1000, noise: 0.07, weekly: true},
	{service: "Images Transformations", family: "Images", zone: "example.com", unit: "Transformations", daily: 10.5, unitPrice: 0.50 / 1000, noise: 0.07, weekly: true},
}

// growthPerDay is the daily growth factor of every series.
const growthPerDay = 1.0015

// AnchorDay is the billing-cycle anchor day of month for now: the day of
// month 18 days before now, kept within 1..28.
func AnchorDay(now time.Time) int {
	return min(cost.Day(now).AddDate(0, 0, -18).Day(), 28)
}

// CurrentPeriod is the billing period containing now.
func CurrentPeriod(now time.Time) cost.Period {
	return cost.BillingPeriod(now, AnchorDay(now))
}

// Account builds the demo account as of now (any zone; UTC days are used).
func Account(now time.Time) fakecf.Account {
	today := cost.Day(now)
	last := today.AddDate(0, 0, -1)
	first := last.AddDate(0, 0, -(HistoryDays - 1))
	period := CurrentPeriod(now)

	a := fakecf.Account{
		ID:        AccountID,
		Name:      AccountName,
		CardMonth: int(today.Month()),
		CardYear:  today.Year(),
		Anchor:    time.Date(today.Year()-1, today.Month(), AnchorDay(now), 0, 0, 0, 0, time.UTC),
		Currency:  Currency,
	}
	for si, s := range catalog {
		costs := make([]float64, HistoryDays)
		ptd := 0.0
		for i := range HistoryDays {
			day := first.AddDate(0, 0, i)
			rng := rand.New(rand.NewPCG(uint64(day.Unix()), uint64(si)+0x5eed))
			v := s.daily * math.Pow(growthPerDay, float64(i-(HistoryDays-1))) * math.Exp(s.noise*rng.NormFloat64())
			if s.weekly {
				switch day.Weekday() {
				case time.Saturday:
					v *= 0.75
				case time.Sunday:
					v *= 0.70
				}
			}
			if s.spike && i == HistoryDays-1 {
				v *= SpikeFactor
			}
			costs[i] = v
			if !day.Before(period.Start) {
				ptd += v
			}
		}
		scale := 1.0
		if s.ptd > 0 && ptd > 0 {
			scale = s.ptd / ptd
		}
		for i, v := range costs {
			c := round(v*scale, 1e6)
			a.Days = append(a.Days, fakecf.Day{
				Service:  s.service,
				Family:   s.family,
				Zone:     s.zone,
				Day:      first.AddDate(0, 0, i),
				Cost:     c,
				Quantity: quantity(c, s),
				Unit:     s.unit,
			})
		}
	}
	return a
}

func quantity(c float64, s series) float64 {
	q := c / s.unitPrice
	if strings.HasPrefix(s.unit, "GB") {
		return round(q, 1000)
	}
	return math.Round(q)
}

func round(x, scale float64) float64 { return math.Round(x*scale) / scale }

// NewServer returns a fake Cloudflare billing API serving the demo account
// as of now, accepting Token.
func NewServer(now time.Time) *fakecf.Server {
	s := fakecf.New(Account(now))
	s.RequireToken(Token)
	return s
}
