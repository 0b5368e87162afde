package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestValidate_Routing(t *testing.T) {
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n" +
		"notifiers:\n  - name: pager\n    console: {}\n  - name: chat\n    console: {}\n"
	quiet := "time_intervals:\n  - name: quiet-hours\n    time_intervals:\n" +
		"      - times: [{start_time: \"20:00\", end_time: \"24:00\"}]\n        weekdays: [\"monday:friday\"]\n        location: Europe/Berlin\n"
	tests := []struct {
		name, yml string
		want      []string // each a line of the error; none means OK
	}{
		{"OK", base + quiet +
			"inhibit_rules:\n  - source_matchers: ['kind=\"stale\"']\n    target_matchers: ['kind=\"anomaly\"']\n    equal: [account]\n" +
			"routes:\n  - matchers: ['severity=\"critical\"']\n    notifiers: [pager]\n    repeat_interval: 1h\n" +
			"  - notifiers: [chat]\n    mute_time_intervals: [quiet-hours]\n", nil},
		{"ErrRoute", base + quiet +
			"routes:\n  - matchers: ['severity=~\"crit']\n    notifiers: [pagr]\n    active_time_intervals: [office]\n",
			[]string{
				`c.yaml:16:16: routes[0].matchers[0]: matcher value contains unescaped double quote`,
				`c.yaml:17:17: routes[0].notifiers[0]: unknown notifier "pagr"`,
				`c.yaml:18:29: routes[0].active_time_intervals[0]: unknown time interval "office"`,
			}},
		{"ErrInhibit", base +
			"inhibit_rules:\n  - source_matchers: ['kindd=\"stale\"']\n    equal: [acount]\n",
			[]string{
				`c.yaml:10:23: inhibit_rules[0].source_matchers[0]: unknown label "kindd"`,
				`c.yaml:10:5: inhibit_rules[0].target_matchers: at least one matcher is required`,
				`c.yaml:11:13: inhibit_rules[0].equal[0]: unknown label "acount"`,
			}},
		{"ErrTimeInterval", base +
			"time_intervals:\n  - name: quiet-hours\n    time_intervals:\n      - weekdays: [funday]\n        hours: 3\n" +
			"      - location: Mars/Olympus\n",
			[]string{
				`c.yaml:13:9: time_intervals[0].time_intervals[0].hours: unknown field`,
				`c.yaml:14:9: time_intervals[0].time_intervals[1]: `,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yml), env(nil))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want OK, got:\n%v", err)
				}
				iv := cfg.Intervals()["quiet-hours"]
				// Monday 2026-11-09 21:00 in Berlin.
				if len(iv) != 1 || !iv[0].ContainsTime(time.Date(2026, 11, 9, 20, 0, 0, 0, time.UTC)) {
					t.Errorf("quiet hours %+v do not contain Monday 21:00 Berlin", iv)
				}
				if cfg.Routes[0].RepeatInterval != time.Hour || cfg.InhibitRules[0].Equal[0] != "account" {
					t.Errorf("decoded %+v %+v", cfg.Routes, cfg.InhibitRules)
				}
				return
			}
			if err == nil {
				t.Fatal("want errors, got OK")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s...", i, lines[i], w)
				}
			}
		})
	}
}

func TestParse_InhibitRulesAbsentOrEmpty(t *testing.T) {
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	for yml, wantNil := range map[string]bool{base: true, base + "inhibit_rules: []\n": false} {
		cfg, err := Parse("c.yaml", []byte(yml), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if (cfg.InhibitRules == nil) != wantNil {
			t.Errorf("%q: InhibitRules nil = %v, want %v", yml, cfg.InhibitRules == nil, wantNil)
		}
	}
}

// The commented routing example in config.example.yaml must parse once
// uncommented, so it cannot rot.
func TestExample_Routing(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start, end := strings.Index(s, "# --- routing example ---\n"), strings.Index(s, "# --- end routing example ---")
	if start < 0 || end < start {
		t.Fatal("no routing example in config.example.yaml")
	}
	var b strings.Builder
	b.WriteString(s[:start])
	for _, line := range strings.Split(s[start:end], "\n")[1:] {
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ") + "\n")
	}
	cfg, err := Parse("config.example.yaml", []byte(b.String()), env(map[string]string{
		"CLOUDFLARE_API_TOKEN": "t", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
		"COSTBOT_WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u",
	}))
	if err != nil {
		t.Fatalf("routing example:\n%v", err)
	}
	if len(cfg.TimeIntervals) != 1 || len(cfg.InhibitRules) != 2 || len(cfg.Routes) != 2 {
		t.Errorf("routing example decoded to %d intervals, %d inhibit rules, %d routes", len(cfg.TimeIntervals), len(cfg.InhibitRules), len(cfg.Routes))
	}
}
