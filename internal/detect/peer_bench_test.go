package detect_test

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/detect"
)

// peerScript is the Python peer (numpy weekday median/MAD, pandas rolling
// sigma, statsmodels STL); COSTBOT_PEER overrides the path.
func peerScript() string {
	if p := os.Getenv("COSTBOT_PEER"); p != "" {
		return p
	}
	return "../../../shared/bench/peer/pandas_peer.py"
}

// peerPython is Debian's python3 (where apt installs pandas and
// statsmodels) unless COSTBOT_PEER_PYTHON names another interpreter.
func peerPython() string {
	if p := os.Getenv("COSTBOT_PEER_PYTHON"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

var peerLine = regexp.MustCompile(`(?m)^(\w+): \d+ points in [0-9.]+ s = ([0-9.]+) ([MK]) points/s`)

// BenchmarkPeer runs the cost ensemble over 10,000 series x 365 days on one
// goroutine and then the Python peer on the same shape, in the same run,
// and reports costbot's points/s and its ratio to each peer method. It
// skips when python3 with pandas and statsmodels is not installed (Debian:
// apt-get install python3-pandas python3-statsmodels).
func BenchmarkPeer(b *testing.B) {
	script := peerScript()
	if _, err := os.Stat(script); err != nil {
		b.Skipf("peer script: %v", err)
	}
	if err := exec.Command(peerPython(), "-c", "import pandas, statsmodels").Run(); err != nil {
		b.Skip("python3 with pandas and statsmodels not installed")
	}
	data := benchData(b)
	opts := detect.DefaultOptions()
	b.ResetTimer()
	var sink float64
	start := time.Now()
	for range b.N {
		for s := 0; s < benchSeries; s++ {
			d, _ := detect.New(opts)
			for _, v := range data[s%len(data)] {
				sink += d.Step(v).Score
			}
		}
	}
	ours := float64(b.N) * benchSeries * benchDays / time.Since(start).Seconds()
	b.StopTimer()
	_ = sink
	out, err := exec.Command(peerPython(), script, "--series", strconv.Itoa(benchSeries), "--days", strconv.Itoa(benchDays), "--stl-sample", "1").CombinedOutput()
	if err != nil {
		b.Fatalf("peer: %v\n%s", err, out)
	}
	b.ReportMetric(ours, "points/s")
	for _, m := range peerLine.FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[3] == "M" {
			v *= 1e6
		} else {
			v *= 1e3
		}
		b.ReportMetric(ours/v, "x_"+m[1])
	}
	b.Logf("costbot ensemble %.2f M points/s; peer:\n%s", ours/1e6, out)
}
