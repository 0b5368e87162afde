package cost

import "testing"

func TestMoney(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{212.4, "USD", "$212.40"},
		{1234567.891, "usd", "$1,234,567.89"},
		{-12.5, "EUR", "-€12.50"},
		{1234.5, "JPY", "¥1,235"},
		{999.999, "CHF", "1,000.00 CHF"},
		{5, "", "5.00"},
		{100, "GBP", "£100.00"},
		{-5, "GBP", "-£5.00"},
		{0.004, "USD", "$0.00"},
	}
	for _, tt := range tests {
		if got := Money(tt.amount, tt.currency); got != tt.want {
			t.Errorf("Money(%v, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
	if got := Percent(212.4, 250); got != "85%" {
		t.Errorf("Percent = %q", got)
	}
	if got := Percent(1, 0); got != "n/a" {
		t.Errorf("Percent(1,0) = %q", got)
	}
}
