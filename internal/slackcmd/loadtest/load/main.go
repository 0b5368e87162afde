// Command load sends signed /costbot slash commands at a fixed rate (open
// loop) and reports latency percentiles measured from each request's
// scheduled start, so queueing delay is not hidden. With -file it instead
// writes pre-signed requests for wrk.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func sign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":" + body))
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func body(text string, i int) string {
	if strings.Contains(text, "%d") {
		text = fmt.Sprintf(text, i)
	}
	return url.Values{"command": {"/costbot"}, "text": {text}, "user_id": {"U1"}, "channel_id": {"C1"}, "trigger_id": {strconv.Itoa(i)}}.Encode()
}

func main() {
	target := flag.String("url", "http://127.0.0.1:8931/slack/commands", "endpoint")
	secret := flag.String("secret", "load-secret", "signing secret")
	rate := flag.Int("rate", 1000, "requests per second")
	dur := flag.Duration("d", 20*time.Second, "duration")
	text := flag.String("text", "spend", "slash command text; a %d in it is replaced by the request's number, so every request asks something else")
	file := flag.String("file", "", "write N pre-signed requests (ts sig body per line) here and exit")
	n := flag.Int("n", 300000, "requests for -file")
	flag.Parse()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if *file != "" {
		f, err := os.Create(*file)
		if err != nil {
			panic(err)
		}
		for i := 0; i < *n; i++ {
			b := body(*text, i)
			fmt.Fprintf(f, "%s %s %s\n", ts, sign(*secret, ts, b), b)
		}
		f.Close()
		return
	}
	total := int(float64(*rate) * dur.Seconds())
	bodies := make([]string, total)
	sigs := make([]string, total)
	for i := range bodies {
		bodies[i] = body(*text, i)
		sigs[i] = sign(*secret, ts, bodies[i])
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}}
	lat := make([]time.Duration, total)
	codes := make([]int, total)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	for i := 0; i < total; i++ {
		sched := start.Add(time.Duration(i) * interval)
		if d := time.Until(sched); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, sched time.Time) {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, *target, strings.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", sigs[i])
			resp, err := client.Do(req)
			if err != nil {
				codes[i] = -1
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
			lat[i] = time.Since(sched)
		}(i, sched)
	}
	wg.Wait()
	elapsed := time.Since(start)
	bad := 0
	for _, c := range codes {
		if c != 200 {
			bad++
		}
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	fmt.Printf("text=%q rate=%d/s requests=%d elapsed=%s non200=%d\n", *text, *rate, total, elapsed.Round(time.Millisecond), bad)
	fmt.Printf("p50=%s p90=%s p99=%s p99.9=%s max=%s\n", p(0.50), p(0.90), p(0.99), p(0.999), lat[len(lat)-1])
}
