package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/cost"
)

// scenario is one testdata/scenarios/*.yaml file: rules, data and the
// findings and errors they must produce, side by side.
type scenario struct {
	Now      time.Time `yaml:"now"`
	Accounts []struct {
		ID   string `yaml:"id"`
		Name string `yaml:"name"`
	} `yaml:"accounts"`
	Rules string `yaml:"rules"`
	// BillingAnchor is the day of month invoices start on (default 1).
	BillingAnchor int `yaml:"billing_anchor"`
	Usage         []struct {
		Account       string  `yaml:"account"`
		Family        string  `yaml:"family"`
		Service       string  `yaml:"service"`
		Zone          string  `yaml:"zone"`
		Day           string  `yaml:"day"`  // one day, or
		From          string  `yaml:"from"` // every day in [from, to)
		To            string  `yaml:"to"`
		Cost          float64 `yaml:"cost"`
		CostUnknown   bool    `yaml:"cost_unknown"`
		Currency      string  `yaml:"currency"` // default USD
		BillingPeriod string  `yaml:"billing_period"`
		Correction    bool    `yaml:"correction"`
	} `yaml:"usage"`
	Cards []struct {
		Account string `yaml:"account"`
		Expiry  string `yaml:"expiry"` // 2006-01
	} `yaml:"cards"`
	Stale    []string `yaml:"stale"`
	Expected struct {
		Findings []string `yaml:"findings"`
		Errors   []string `yaml:"errors"`
	} `yaml:"expected"`
}

// findingLine renders the parts of a finding a scenario pins down.
func findingLine(f cost.Finding) string {
	s := fmt.Sprintf("%s %s [%s] %s %s period=%s", f.Kind, f.Rule, f.Scope, f.Threshold, f.Severity, f.Period)
	if f.Kind == cost.KindBudget || f.Kind == cost.KindForecast {
		s += fmt.Sprintf(" actual=%.2f forecast=%.2f", f.Actual, f.Forecast)
	}
	return s
}

func TestEvaluate_Scenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			in, set, want := loadScenario(t, file)
			fs, errs := set.Evaluate(in)
			var got []string
			for _, f := range fs {
				got = append(got, findingLine(f))
			}
			var gotErrs []string
			for _, e := range errs {
				gotErrs = append(gotErrs, e.Error())
			}
			if a, b := strings.Join(got, "\n"), strings.Join(want.Expected.Findings, "\n"); a != b {
				t.Errorf("findings:\n%s\nwant:\n%s", a, b)
			}
			if a, b := strings.Join(gotErrs, "\n"), strings.Join(want.Expected.Errors, "\n"); a != b {
				t.Errorf("errors:\n%s\nwant:\n%s", a, b)
			}
		})
	}
}

func loadScenario(tb testing.TB, file string) (Input, *Set, *scenario) {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var sc scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		tb.Fatalf("decode scenario: %v", err)
	}
	set, err := Parse(file+"#rules", []byte(sc.Rules))
	if err != nil {
		tb.Fatal(err)
	}
	anchor := sc.BillingAnchor
	if anchor == 0 {
		anchor = 1
	}
	invoice := func(d time.Time) cost.Period {
		s := time.Date(d.Year(), d.Month(), anchor, 0, 0, 0, 0, time.UTC)
		if d.Day() < anchor {
			s = s.AddDate(0, -1, 0)
		}
		return cost.Period{Start: s, End: s.AddDate(0, 1, 0)}
	}
	parseDay := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			tb.Fatalf("bad day %q: %v", s, err)
		}
		return d
	}
	in := Input{Now: sc.Now}
	for _, a := range sc.Accounts {
		in.Accounts = append(in.Accounts, cost.Account{ID: a.ID, Name: a.Name})
	}
	for _, u := range sc.Usage {
		from, to := time.Time{}, time.Time{}
		if u.Day != "" {
			from = parseDay(u.Day)
			to = from.AddDate(0, 0, 1)
		} else {
			from, to = parseDay(u.From), parseDay(u.To)
		}
		cur := u.Currency
		if cur == "" {
			cur = "USD"
		}
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			bp := invoice(d)
			if u.BillingPeriod != "" {
				a, b, _ := strings.Cut(u.BillingPeriod, "..")
				bp = cost.Period{Start: parseDay(a), End: parseDay(b)}
			}
			in.Usage = append(in.Usage, cost.Usage{Account: u.Account, Family: u.Family, Service: u.Service, Zone: u.Zone,
				Day: d, BillingPeriod: bp, Cost: u.Cost, CostKnown: !u.CostUnknown, Currency: cur, Correction: u.Correction})
		}
	}
	for _, c := range sc.Cards {
		e, err := time.Parse("2006-01", c.Expiry)
		if err != nil {
			tb.Fatalf("bad expiry %q", c.Expiry)
		}
		in.Cards = append(in.Cards, cost.Card{Account: c.Account, ExpiryMonth: int(e.Month()), ExpiryYear: e.Year()})
	}
	if len(sc.Stale) > 0 {
		in.Stale = map[string]error{}
		for _, id := range sc.Stale {
			in.Stale[id] = errTest
		}
	}
	return in, set, &sc
}
