package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestParse_Bad checks every bad fixture in testdata/ against the exact
// errors, positions included. Every fixture must be listed.
func TestParse_Bad(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{
			file: "bad-anomaly.bad.yaml",
			want: []string{
				`bad-anomaly.bad.yaml:3:13: rule "odd": method: unknown method "magic" (want one of ensemble, seasonal, cusum, ramp, outage, esd)`,
				`bad-anomaly.bad.yaml:4:18: rule "odd": sensitivity: unknown sensitivity "extreme" (want low, medium or high)`,
				`bad-anomaly.bad.yaml:5:16: rule "odd": direction: unknown direction "sideways" (want up, down or both)`,
				`bad-anomaly.bad.yaml:6:17: rule "odd": min_change: must not be negative, got -1`,
				`bad-anomaly.bad.yaml:7:18: rule "odd": warmup_days: must not be negative, got -3`,
				`bad-anomaly.bad.yaml:8:15: rule "odd": severity: unknown severity "loud" (want info, warning or critical)`,
				`bad-anomaly.bad.yaml:10:18: rule "slow": warmup_days: must be at most 365 days, got 400`,
				`bad-anomaly.bad.yaml:13:21: rule "card": warn_days[1]: must be positive, got 0`,
				`bad-anomaly.bad.yaml:13:24: rule "card": warn_days[2]: must be positive, got -1`,
				`bad-anomaly.bad.yaml:13:31: rule "card": warn_days[4]: 7 given twice`,
				`bad-anomaly.bad.yaml:15:16: rule "card2": warn_days: must not be empty`,
			},
		},
		{
			file: "bad-values.bad.yaml",
			want: []string{
				`bad-values.bad.yaml:3:22: rule "values": scope.account: bad glob "prod[": syntax error in pattern`,
				`bad-values.bad.yaml:3:40: rule "values": scope.service: bad glob "\\": syntax error in pattern`,
				`bad-values.bad.yaml:4:13: rule "values": period: unknown period "fortnight" (want billing_period, month, week or day)`,
				`bad-values.bad.yaml:5:15: rule "values": timezone: unknown IANA time zone "Mars/Olympus_Mons"`,
				`bad-values.bad.yaml:6:13: rule "values": amount: must be positive, got -5`,
				`bad-values.bad.yaml:7:15: rule "values": currency: want a three-letter ISO 4217 code such as USD, got "usd"`,
				`bad-values.bad.yaml:9:19: rule "values": thresholds[0].percent: must be in (0, 1000], got 0`,
				`bad-values.bad.yaml:10:19: rule "values": thresholds[1].percent: must be in (0, 1000], got 1001`,
				`bad-values.bad.yaml:11:31: rule "values": thresholds[2]: set percent or amount, not both`,
				`bad-values.bad.yaml:12:9: rule "values": thresholds[3]: missing percent or amount`,
				`bad-values.bad.yaml:13:27: rule "values": thresholds[4].on: unknown value "later" (want actual or forecast)`,
				`bad-values.bad.yaml:14:33: rule "values": thresholds[5].severity: unknown severity "urgent" (want info, warning or critical)`,
				`bad-values.bad.yaml:16:13: rule "zero": amount: must be positive, got 0`,
				`bad-values.bad.yaml:18:34: rule "zero": thresholds[1]: same threshold as thresholds[0]`,
				`bad-values.bad.yaml:19:22: rule "zero": notify[1]: must not be empty`,
			},
		},
		{
			file: "duplicate-name.bad.yaml",
			want: []string{
				`duplicate-name.bad.yaml:6:11: rule "spend": name: duplicate rule name, first defined at duplicate-name.bad.yaml:2:11`,
				`duplicate-name.bad.yaml:11:11: rule "spend": name: duplicate rule name, first defined at duplicate-name.bad.yaml:2:11`,
			},
		},
		{
			file: "missing-fields.bad.yaml",
			want: []string{
				`missing-fields.bad.yaml:2:5: budgets[0].name: missing; every rule needs a unique name`,
				`missing-fields.bad.yaml:2:5: budgets[0].currency: missing; e.g. USD`,
				`missing-fields.bad.yaml:2:5: budgets[0].thresholds: missing; at least one, e.g. {percent: 100, on: actual}`,
				`missing-fields.bad.yaml:4:5: rule "nothing": amount: missing; the budget per period in currency`,
				`missing-fields.bad.yaml:4:5: rule "nothing": currency: missing; e.g. USD`,
				`missing-fields.bad.yaml:4:5: rule "nothing": thresholds: missing; at least one, e.g. {percent: 100, on: actual}`,
				`missing-fields.bad.yaml:5:11: budgets[2].name: must not be empty`,
				`missing-fields.bad.yaml:8:17: budgets[2].thresholds: must not be empty`,
				`missing-fields.bad.yaml:10:5: cards[0].name: missing; every rule needs a unique name`,
			},
		},
		{
			file: "not-a-mapping.bad.yaml",
			want: []string{
				`not-a-mapping.bad.yaml:1:1: want a mapping with budgets, anomalies and cards, got a list`,
			},
		},
		{
			file: "syntax.bad.yaml",
			want: []string{
				`syntax.bad.yaml:2:1: invalid YAML: did not find expected ',' or ']'`,
			},
		},
		{
			file: "unknown-field.bad.yaml",
			want: []string{
				`unknown-field.bad.yaml:3:5: rule "workers": amont: unknown field, did you mean "amount"?`,
				`unknown-field.bad.yaml:7:35: rule "workers": thresholds[0].level: unknown field (want one of percent, amount, on, severity)`,
				`unknown-field.bad.yaml:8:34: rule "workers": scope.familly: unknown field, did you mean "family"?`,
				`unknown-field.bad.yaml:9:1: alerts: unknown field (want one of budgets, anomalies, cards)`,
			},
		},
		{
			file: "wrong-type.bad.yaml",
			want: []string{
				`wrong-type.bad.yaml:3:12: rule "typed": scope: want a mapping with account, family, service, zone, got string "production"`,
				`wrong-type.bad.yaml:4:13: rule "typed": amount: want a number, got string "lots"`,
				`wrong-type.bad.yaml:5:15: rule "typed": currency: want a string, got integer 840`,
				`wrong-type.bad.yaml:7:19: rule "typed": thresholds[0].percent: want a number, got string "80"`,
				`wrong-type.bad.yaml:8:13: rule "typed": notify: want a list of names, got string "finops"`,
				`wrong-type.bad.yaml:11:18: rule "spikes": warmup_days: want an integer, got number 1.5`,
				`wrong-type.bad.yaml:12:17: rule "spikes": min_impact: want a number, got a list`,
				`wrong-type.bad.yaml:13:8: cards: want a list of rules, got a mapping`,
			},
		},
	}
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("testdata has %d bad fixtures, the table %d", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".bad.yaml"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			set, err := Parse(tt.file, data)
			if set != nil {
				t.Errorf("Parse returned a set with errors")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T %v, want rules.Errors", err, err)
			}
			got := strings.Split(es.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadDir_DuplicateAcrossFiles(t *testing.T) {
	_, err := LoadDir("testdata/dup-across-files")
	want := filepath.Join("testdata", "dup-across-files", "b.yml") + `:3:11: rule "shared": name: duplicate rule name, first defined at ` +
		filepath.Join("testdata", "dup-across-files", "a.yaml") + ":2:11"
	if err == nil || err.Error() != want {
		t.Errorf("LoadDir error:\n%v\nwant:\n%s", err, want)
	}
}

func TestLoadFS_OK(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/b.yml":      {Data: []byte("cards:\n  - name: card\n    notify: [finops]\n")},
		"rules/a.yaml":     {Data: []byte("budgets:\n  - {name: b, amount: 1, currency: EUR, thresholds: [{amount: 2, on: forecast}], notify: [x, finops]}\n")},
		"rules/README":     {Data: []byte("not yaml: [")},
		"rules/empty.yaml": {Data: []byte("# nothing yet\n")},
	}
	set, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 {
		t.Errorf("Len() = %d, want 2", set.Len())
	}
	if got := strings.Join(set.Notifiers(), ","); got != "finops,x" {
		t.Errorf("Notifiers() = %s, want finops,x", got)
	}
	b := set.BudgetRules[0]
	if b.Period != PeriodBillingPeriod || b.Timezone != "UTC" || b.Thresholds[0].Name("EUR") != "forecast>=2EUR" {
		t.Errorf("defaults not applied: %+v", b)
	}
	if got := set.CardRules[0].WarnDays; len(got) != 3 || got[0] != 1 || got[2] != 30 {
		t.Errorf("default warn_days = %v", got)
	}
}

func TestLoadFS_ErrBadFile(t *testing.T) {
	fsys := fstest.MapFS{
		"r/a.yaml": {Data: []byte("budgets:\n  - name: x\n")},
		"r/b.yaml": {Data: []byte("cards:\n  - name: x\n    warn: 3\n")},
	}
	_, err := LoadFS(fsys, "r")
	want := `r/a.yaml:2:5: rule "x": amount: missing; the budget per period in currency
r/a.yaml:2:5: rule "x": currency: missing; e.g. USD
r/a.yaml:2:5: rule "x": thresholds: missing; at least one, e.g. {percent: 100, on: actual}
r/b.yaml:2:11: rule "x": name: duplicate rule name, first defined at r/a.yaml:2:11
r/b.yaml:3:5: rule "x": warn: unknown field (want one of name, account, warn_days, notify)`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestParse_Empty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "budgets:\n", "budgets: []\ncards: ~\n"} {
		set, err := Parse("e.yaml", []byte(src))
		if err != nil || set.Len() != 0 {
			t.Errorf("Parse(%q) = %v, %v; want an empty set", src, set, err)
		}
	}
}

// FuzzParse checks that Parse never panics and every error has a position.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("../../rules/*.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("budgets: &a [*a]\n"))
	f.Add([]byte("budgets:\n  - name: x\n    <<: {amount: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("f.yaml", data)
		if err == nil {
			if set == nil {
				t.Fatal("nil set and nil error")
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T %v, want non-empty rules.Errors", err, err)
		}
		for _, e := range es {
			if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
				t.Fatalf("error without a position: %#v", e)
			}
		}
	})
}

func TestParse_Aliases(t *testing.T) {
	t.Run("OKSharedThresholds", func(t *testing.T) {
		src := `
budgets:
  - name: a
    amount: 10
    currency: USD
    thresholds: &std [{percent: 80}, {percent: 100, severity: critical}]
  - name: b
    amount: 20
    currency: USD
    thresholds: *std
`
		set, err := Parse("a.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(set.BudgetRules[1].Thresholds); got != 2 {
			t.Errorf("aliased thresholds: %d, want 2", got)
		}
	})
	t.Run("ErrTooManyAliases", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("x: &t {percent: 1}\nbudgets:\n")
		b.WriteString("  - &b {name: n, amount: 1, currency: USD, thresholds: [")
		for i := 0; i < 1200; i++ {
			b.WriteString("*t, ")
		}
		b.WriteString("]}\n")
		_, err := Parse("bomb.yaml", []byte(b.String()))
		if err == nil || !strings.Contains(err.Error(), "more than 1000 alias uses") {
			t.Errorf("error %v", err)
		}
	})
}
