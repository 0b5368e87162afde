package console_test

import (
	"github.com/costbot/costbot/internal/golden"

	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/console"
	"github.com/costbot/costbot/internal/notify/notifytest"
)

func TestNotifier_Notify(t *testing.T) {
	var buf bytes.Buffer
	n := console.New(console.Options{Writer: &buf})
	alerts := notifytest.Alerts()
	for _, name := range notifytest.Names {
		ref, err := n.Notify(context.Background(), alerts[name])
		if err != nil || ref != nil {
			t.Fatalf("%s: ref %v, err %v", name, ref, err)
		}
	}
	golden.Check(t, "testdata/alerts.golden.txt", buf.Bytes())
	if strings.Contains(buf.String(), "************4242") {
		t.Error("full masked card number printed; want last 4 only")
	}
}

func TestNotifier_Color(t *testing.T) {
	var buf bytes.Buffer
	n := console.New(console.Options{Name: "dry", Writer: &buf, Color: true})
	if n.Name() != "dry" {
		t.Errorf("Name() = %q", n.Name())
	}
	if _, err := n.Notify(context.Background(), notifytest.Alerts()["anomaly"]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[31m") {
		t.Errorf("critical alert not red: %q", buf.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestNotifier_ErrWrite(t *testing.T) {
	n := console.New(console.Options{Writer: failWriter{}})
	_, err := n.Notify(context.Background(), notifytest.Alerts()["budget"])
	if err == nil || notify.IsRetryable(err) {
		t.Errorf("err = %v, want a permanent error", err)
	}
	if n := console.New(console.Options{}); n.Name() != "console" {
		t.Errorf("default name %q", n.Name())
	}
}

func TestNotifier_Contract(t *testing.T) {
	notifytest.RunContract(t, func(t *testing.T) notify.Notifier {
		return console.New(console.Options{Writer: io.Discard})
	})
}
