package cost

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds the one way costbot writes money, percentages and periods
// for people. Every surface (Slack alerts, the console, slash commands, the
// digest) formats through these functions, so the same figure reads the same
// everywhere.

var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$", "BRL": "R$",
}

// Money formats an amount for people: "$1,234.50", "€12.00", "¥1,235" or
// "CHF 1,234.50" for currencies without a well-known symbol. Negative amounts
// get a leading minus ("-$5.00", "-CHF 5.00"); an empty currency prints the
// bare number. Amounts are rounded half away from zero to the currency's
// minor unit (none for JPY and KRW). NaN and infinities print "n/a".
func Money(amount float64, currency string) string {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	decimals := 2
	if currency == "JPY" || currency == "KRW" {
		decimals = 0
	}
	if math.IsNaN(amount) || math.IsInf(amount, 0) {
		return "n/a"
	}
	scale := math.Pow10(decimals)
	amount = math.Round(amount*scale) / scale // half away from zero, as people expect
	if amount == 0 {
		amount = 0 // no "-0.00"
	}
	sign := ""
	if amount < 0 {
		sign = "-"
		amount = -amount
	}
	num := groupThousands(strconv.FormatFloat(amount, 'f', decimals, 64))
	if sym, ok := currencySymbols[currency]; ok {
		return sign + sym + num
	}
	if currency == "" {
		return sign + num
	}
	return sign + currency + " " + num
}

// SignedMoney is Money with an explicit "+" on amounts that round above zero:
// "+$12.00", "-€3.50", "$0.00".
func SignedMoney(amount float64, currency string) string {
	s := Money(amount, currency)
	if s != "n/a" && !strings.HasPrefix(s, "-") && math.Round(amount*100) > 0 {
		return "+" + s
	}
	return s
}

// Percent returns part as a whole percentage of total, e.g. "85%"; "n/a" when
// total is 0.
func Percent(part, total float64) string {
	if total == 0 || math.IsNaN(part) || math.IsNaN(total) {
		return "n/a"
	}
	return strconv.FormatFloat(math.Round(100*part/total), 'f', 0, 64) + "%"
}

// Change renders the relative change from old to cur with one decimal and
// its sign: "+12.5%", "-13.0%", "+0.0%" when both are equal (including both
// zero). It is "new" when old rounds to zero and cur does not.
func Change(cur, old float64) string {
	r2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	switch {
	case math.IsNaN(cur) || math.IsNaN(old):
		return "n/a"
	case r2(old) == r2(cur):
		return "+0.0%"
	case r2(old) == 0:
		return "new"
	}
	p := math.Round(1000*(cur-old)/math.Abs(old)) / 10
	if p == 0 {
		return "+0.0%" // rounds to zero: no sign flip on "-0.0%"
	}
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if p > 0 {
		s = "+" + s
	}
	return s + "%"
}

// FormatPeriod writes a half-open UTC period for people, with its last day
// inclusive: "1 Nov – 30 Nov 2026", "28 Dec 2026 – 3 Jan 2027", or one day
// "25 Nov 2026". A period that ends at or before its start is written as its
// start day; the zero period is "".
func FormatPeriod(p Period) string {
	if p.IsZero() {
		return ""
	}
	start := Day(p.Start)
	last := Day(p.End.Add(-time.Nanosecond))
	if !last.After(start) {
		return start.Format("2 Jan 2006")
	}
	if start.Year() != last.Year() {
		return start.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
	}
	return start.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
}

func groupThousands(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(intPart) % 3
	if lead > 0 {
		b.WriteString(intPart[:lead])
	}
	for i := lead; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
