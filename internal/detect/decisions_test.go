package detect_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"testing"

	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/costgen"
)

var (
	decisionsDump    = flag.String("detect.dump", "", "TestDetector_EvalDecisions: write every Result of the evaluation families to this file")
	decisionsAgainst = flag.String("detect.against", "", "TestDetector_EvalDecisions: compare every Result of the evaluation families with this dump (of another build)")
	decisionsSeries  = flag.Int("detect.series", 2000, "TestDetector_EvalDecisions: series of each family (2000 is -costgen.full)")
)

// evalRecord is what TestDetector_EvalDecisions keeps of a Result.
type evalRecord struct {
	Score, Expected, Sigma float64
	Since                  int32
	Detector               uint8 // index in the detector-name table below
	Flags                  uint8 // 1 Anomaly, 2 Outage
}

var evalDetectorNames = func() map[string]uint8 {
	m := map[string]uint8{}
	for mask := range 32 {
		var name string
		for i, n := range []string{"seasonal", "cusum", "ramp", "outage", "esd"} {
			if mask&(1<<i) != 0 {
				if name != "" {
					name += "+"
				}
				name += n
			}
		}
		m[name] = uint8(mask)
	}
	return m
}()

// TestDetector_EvalDecisions runs the default ensemble at every
// sensitivity over the evaluation families (costgen.Generate and both
// costgen.Realistic families, -detect.series each) and either writes every
// Result to -detect.dump or compares them with a dump written by another
// build (-detect.against): the decisions (Anomaly, Outage, Detector, Since)
// must be identical point by point, and the test reports the largest
// relative difference of Score, Expected and Sigma. It is how a numeric
// change that moves last bits (identity_test.go) shows it changes no
// decision; it skips without either flag.
func TestDetector_EvalDecisions(t *testing.T) {
	if *decisionsDump == "" && *decisionsAgainst == "" {
		t.Skip("needs -detect.dump or -detect.against")
	}
	var w *bufio.Writer
	if *decisionsDump != "" {
		f, err := os.Create(*decisionsDump)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w = bufio.NewWriterSize(f, 1<<20)
		defer func() {
			if err := w.Flush(); err != nil {
				t.Error(err)
			}
		}()
	}
	var r *bufio.Reader
	if *decisionsAgainst != "" {
		f, err := os.Open(*decisionsAgainst)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r = bufio.NewReaderSize(f, 1<<20)
	}
	type family struct {
		name string
		gen  func(seed uint64) costgen.Series
	}
	families := []family{
		{"generate", func(seed uint64) costgen.Series { return costgen.Generate(seed, costgen.DefaultOptions()) }},
		{"tuning", func(seed uint64) costgen.Series {
			return costgen.Realistic(costgen.Tuning, seed, costgen.RealisticOptions())
		}},
		{"held-out", func(seed uint64) costgen.Series {
			return costgen.Realistic(costgen.HeldOut, seed, costgen.RealisticOptions())
		}},
	}
	type stat struct {
		points, decisions, anomalies int
		maxRel                       [3]float64 // Score, Expected, Sigma
		over                         [3][3]int  // relative difference > 1e-12, 1e-9, 1e-6
	}
	shown := 0
	for _, fam := range families {
		for _, sens := range []detect.Sensitivity{detect.SensitivityMedium, detect.SensitivityLow, detect.SensitivityHigh} {
			var st stat
			for i := range *decisionsSeries {
				s := fam.gen(uint64(1 + i))
				o := detect.DefaultOptions()
				o.Sensitivity, o.Start = sens, s.Start
				for j, res := range detect.Series(s.Values, o) {
					rec := evalRecord{Score: res.Score, Expected: res.Expected, Sigma: res.Sigma, Since: int32(res.Since), Detector: evalDetectorNames[res.Detector]}
					if res.Anomaly {
						rec.Flags |= 1
						st.anomalies++
					}
					if res.Outage {
						rec.Flags |= 2
					}
					st.points++
					if w != nil {
						if err := binary.Write(w, binary.LittleEndian, rec); err != nil {
							t.Fatal(err)
						}
					}
					if r == nil {
						continue
					}
					var old evalRecord
					if err := binary.Read(r, binary.LittleEndian, &old); err != nil {
						if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
							t.Fatalf("%s: the dump ends before this run", *decisionsAgainst)
						}
						t.Fatal(err)
					}
					if old.Flags != rec.Flags || old.Detector != rec.Detector || old.Since != rec.Since {
						st.decisions++
						if shown++; shown <= 50 {
							t.Errorf("%s/%s series %d point %d: anomaly/outage %d detector %d since %d (score %.6f), dump %d %d %d (%.6f)",
								fam.name, sens, i+1, j, rec.Flags, rec.Detector, rec.Since, rec.Score, old.Flags, old.Detector, old.Since, old.Score)
						}
					}
					for k, pair := range [3][2]float64{{rec.Score, old.Score}, {rec.Expected, old.Expected}, {rec.Sigma, old.Sigma}} {
						a, b := pair[0], pair[1]
						if a == b || math.IsNaN(a) && math.IsNaN(b) {
							continue
						}
						rel := math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
						if math.IsNaN(rel) {
							rel = math.Inf(1)
						}
						st.maxRel[k] = math.Max(st.maxRel[k], rel)
						for m, lim := range []float64{1e-12, 1e-9, 1e-6} {
							if rel > lim {
								st.over[k][m]++
							}
						}
					}
				}
			}
			line := fmt.Sprintf("%s/%s: %d points, %d anomalous", fam.name, sens, st.points, st.anomalies)
			if r != nil {
				line += fmt.Sprintf("; %d decisions differ; max relative difference score %.2g expected %.2g sigma %.2g; points over 1e-12/1e-9/1e-6: score %v expected %v sigma %v",
					st.decisions, st.maxRel[0], st.maxRel[1], st.maxRel[2], st.over[0], st.over[1], st.over[2])
			}
			t.Log(line)
		}
	}
	if r != nil {
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("%s holds more results than this run", *decisionsAgainst)
		}
	}
}
