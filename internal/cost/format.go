package cost

import (
	"math"
	"strconv"
	"strings"
)

var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$", "BRL": "R$",
}

// Money formats an amount for people: "$1,234.50", "€12.00", "¥1,235" or
// "1,234.50 CHF" for currencies without a well-known symbol. Negative amounts
// get a leading minus; an empty currency prints the bare number.
func Money(amount float64, currency string) string {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	decimals := 2
	if currency == "JPY" || currency == "KRW" {
		decimals = 0
	}
	if math.IsNaN(amount) || math.IsInf(amount, 0) {
		return "n/a"
	}
	sign := ""
	if amount < 0 {
		sign = "-"
		amount = -amount
	}
	scale := math.Pow10(decimals)
	amount = math.Round(amount*scale) / scale // half away from zero, as people expect
	num := groupThousands(strconv.FormatFloat(amount, 'f', decimals, 64))
	if sym, ok := currencySymbols[currency]; ok {
		return sign + sym + num
	}
	if currency == "" {
		return sign + num
	}
	return sign + num + " " + currency
}

// Percent returns part as a whole percentage of total, e.g. "85%"; "n/a" when
// total is 0.
func Percent(part, total float64) string {
	if total == 0 || math.IsNaN(part) || math.IsNaN(total) {
		return "n/a"
	}
	return strconv.FormatFloat(math.Round(100*part/total), 'f', 0, 64) + "%"
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
