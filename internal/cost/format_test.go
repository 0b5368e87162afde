package cost

import (
	"math"
	"testing"
	"time"
)

func TestMoney(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{212.4, "USD", "$212.40"},
		{1042.87, "USD", "$1,042.87"},
		{1234567.891, "usd", "$1,234,567.89"},
		{1042.87, "EUR", "€1,042.87"},
		{-12.5, "EUR", "-€12.50"},
		{1234.5, "JPY", "¥1,235"},
		{1042.87, "CHF", "CHF 1,042.87"},
		{999.999, "CHF", "CHF 1,000.00"},
		{-5, "chf", "-CHF 5.00"},
		{5, "", "5.00"},
		{100, "GBP", "£100.00"},
		{-5, "GBP", "-£5.00"},
		{0.004, "USD", "$0.00"},
		{-0.004, "USD", "$0.00"},
		{math.NaN(), "USD", "n/a"},
	}
	for _, tt := range tests {
		if got := Money(tt.amount, tt.currency); got != tt.want {
			t.Errorf("Money(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestSignedMoney(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{12, "USD", "+$12.00"},
		{-3.5, "EUR", "-€3.50"},
		{0, "USD", "$0.00"},
		{0.001, "USD", "$0.00"},
		{7, "CHF", "+CHF 7.00"},
	}
	for _, tt := range tests {
		if got := SignedMoney(tt.amount, tt.currency); got != tt.want {
			t.Errorf("SignedMoney(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	if got := Percent(212.4, 250); got != "85%" {
		t.Errorf("Percent = %q", got)
	}
	if got := Percent(1, 0); got != "n/a" {
		t.Errorf("Percent(1,0) = %q", got)
	}
}

func TestChange(t *testing.T) {
	tests := []struct {
		cur, old float64
		want     string
	}{
		{70, 70, "+0.0%"},
		{0, 0, "+0.0%"},
		{60, 70, "-14.3%"},
		{112.5, 100, "+12.5%"},
		{5, 0, "new"},
		{100, 100.0004, "+0.0%"},
		{-50, -100, "+50.0%"},
	}
	for _, tt := range tests {
		if got := Change(tt.cur, tt.old); got != tt.want {
			t.Errorf("Change(%v, %v) = %q, want %q", tt.cur, tt.old, got, tt.want)
		}
	}
}

func TestFormatPeriod(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		p    Period
		want string
	}{
		{Period{d(2026, 11, 1), d(2026, 12, 1)}, "1 Nov – 30 Nov 2026"},
		{Period{d(2026, 11, 25), d(2026, 11, 26)}, "25 Nov 2026"},
		{Period{d(2026, 12, 28), d(2027, 1, 4)}, "28 Dec 2026 – 3 Jan 2027"},
		{Period{d(2026, 7, 1), d(2026, 8, 1).Add(-time.Second)}, "1 Jul – 31 Jul 2026"},
		{Period{d(2026, 11, 25), d(2026, 11, 25)}, "25 Nov 2026"},
		{Period{}, ""},
	}
	for _, tt := range tests {
		if got := FormatPeriod(tt.p); got != tt.want {
			t.Errorf("FormatPeriod(%s) = %q, want %q", tt.p, got, tt.want)
		}
	}
}
