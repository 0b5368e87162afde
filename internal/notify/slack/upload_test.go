package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png" // image.Decode reads PNG
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/slack"
)

func newUploader(t testing.TB, f *fakeSlack, log *slog.Logger) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Options{
		Name: "slack", Channel: "C0123ABCD", Token: "xoxb-test-token", APIURL: f.srv.URL + "/",
		HTTPClient: f.srv.Client(), Now: func() time.Time { return notifytest.Now }, Logger: log,
		UploadCharts: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func methods(calls []call) string {
	var m []string
	for _, c := range calls {
		m = append(m, c.method)
	}
	return strings.Join(m, " ")
}

const uploadFlow = "chat.postMessage files.getUploadURLExternal " + uploadPath + " files.completeUploadExternal"

func TestNotifier_UploadChart(t *testing.T) {
	alerts := notifytest.Alerts()

	t.Run("OK", func(t *testing.T) {
		f := newFake(t)
		var logs bytes.Buffer
		n := newUploader(t, f, slog.New(slog.NewTextHandler(&logs, nil)))
		a := alerts["budget"]
		ref, err := n.Notify(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		if got := methods(calls); got != uploadFlow {
			t.Fatalf("calls %s, want %s", got, uploadFlow)
		}
		get, up, done := calls[1], calls[2], calls[3]
		if got := get.form.Get("filename"); got != "costbot-"+a.Fingerprint+".png" {
			t.Errorf("filename %q", got)
		}
		if got := get.form.Get("length"); got != strconv.Itoa(len(up.file)) {
			t.Errorf("length %s, uploaded %d bytes", got, len(up.file))
		}
		img, format, err := image.Decode(bytes.NewReader(up.file))
		if err != nil || format != "png" {
			t.Fatalf("uploaded bytes are not a PNG: %v (%q)", err, format)
		}
		if s := img.Bounds().Size(); s.X < 200 || s.Y < 200 {
			t.Errorf("image size %v", s)
		}
		if up.form.Get("filename") != get.form.Get("filename") {
			t.Errorf("multipart filename %q", up.form.Get("filename"))
		}
		if done.form.Get("channel_id") != ref.Channel || done.form.Get("thread_ts") != ref.TS || ref.TS == "" {
			t.Errorf("complete form %v, want channel_id %s thread_ts %s", done.form, ref.Channel, ref.TS)
		}
		var files []map[string]string
		if err := json.Unmarshal([]byte(done.form.Get("files")), &files); err != nil || len(files) != 1 ||
			files[0]["id"] != "F0UPLOAD1" || files[0]["title"] != a.Chart.Title {
			t.Errorf("files %s (%v)", done.form.Get("files"), err)
		}
		if logs.Len() != 0 {
			t.Errorf("unexpected logs: %s", logs.String())
		}
	})

	t.Run("OKReplyUploadsIntoRootThread", func(t *testing.T) {
		f := newFake(t)
		n := newUploader(t, f, nil)
		a := alerts["escalation"]
		a.Chart = alerts["budget"].Chart
		if _, err := n.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		want := "chat.postMessage chat.update files.getUploadURLExternal " + uploadPath + " files.completeUploadExternal"
		if got := methods(calls); got != want {
			t.Fatalf("calls %s, want %s", got, want)
		}
		if done := calls[4].form; done.Get("thread_ts") != a.Thread.TS || done.Get("channel_id") != a.Thread.Channel {
			t.Errorf("complete form %v, want the root thread %s", done, a.Thread.TS)
		}
	})

	t.Run("OKNoChartNoUpload", func(t *testing.T) {
		f := newFake(t)
		n := newUploader(t, f, nil)
		for _, name := range []string{"card_expiry", "stale", "resolved"} {
			if _, err := n.Notify(context.Background(), alerts[name]); err != nil {
				t.Fatal(err)
			}
		}
		a := alerts["anomaly"]
		a.Chart = &cost.Chart{Days: a.Chart.Days[:2], Values: []float64{math.NaN(), math.NaN()}}
		if _, err := n.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		for _, c := range f.Calls() {
			if strings.HasPrefix(c.method, "files.") {
				t.Errorf("unexpected %s", c.method)
			}
		}
	})

	t.Run("OKDisabledByDefault", func(t *testing.T) {
		f := newFake(t)
		n := newNotifier(t, f, nil)
		if _, err := n.Notify(context.Background(), alerts["anomaly"]); err != nil {
			t.Fatal(err)
		}
		if got := methods(f.Calls()); got != "chat.postMessage" {
			t.Errorf("calls %s", got)
		}
	})
}

// TestNotifier_UploadChartErr: a failed upload never fails the send; a token
// without files:write turns uploads off after one log line.
func TestNotifier_UploadChartErr(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		reply    reply
		disables bool
	}{
		{"ErrMissingScope", "files.getUploadURLExternal",
			reply{200, nil, `{"ok":false,"error":"missing_scope","needed":"files:write","provided":"chat:write"}`}, true},
		{"ErrNotAllowedTokenType", "files.getUploadURLExternal",
			reply{200, nil, `{"ok":false,"error":"not_allowed_token_type"}`}, true},
		{"ErrUploadURL500", uploadPath, reply{500, nil, "oops"}, false},
		{"ErrCompleteNotInChannel", "files.completeUploadExternal",
			reply{200, nil, `{"ok":false,"error":"not_in_channel"}`}, false},
		{"ErrGetURL503", "files.getUploadURLExternal", reply{503, nil, "<html>"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.script(tt.method, tt.reply)
			var logs bytes.Buffer
			n := newUploader(t, f, slog.New(slog.NewTextHandler(&logs, nil)))
			a := notifytest.Alerts()["anomaly"]
			ref, err := n.Notify(context.Background(), a)
			if err != nil || ref == nil || ref.TS == "" {
				t.Fatalf("ref %v, err %v: a failed upload must not fail the send", ref, err)
			}
			if !strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("upload failure not logged at WARN: %s", logs.String())
			}
			if strings.Contains(logs.String(), "xoxb-test-token") {
				t.Errorf("token leaked in logs: %s", logs.String())
			}
			before := len(f.Calls())
			ref2, err := n.Notify(context.Background(), a)
			if err != nil || ref2 == nil {
				t.Fatalf("second send: ref %v, err %v", ref2, err)
			}
			second := methods(f.Calls()[before:])
			if tt.disables {
				if second != "chat.postMessage" {
					t.Errorf("second send calls %s, want uploads disabled", second)
				}
				if n := strings.Count(logs.String(), "chart uploads disabled"); n != 1 {
					t.Errorf("scope logged %d times, want once: %s", n, logs.String())
				}
			} else if second != uploadFlow {
				t.Errorf("second send calls %s, want the upload retried with the next alert", second)
			}
		})
	}
}
