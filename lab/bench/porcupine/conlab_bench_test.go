// conlab_bench_test.go — dropped into a copy of Porcupine's source tree by
// lab/bench/porcupine_vs_conlab.sh: times Porcupine's own CheckEvents, with its own test
// parsers and models (porcupine_test.go: parseJepsenLog + etcdModel, parseKvLog + kvModel), and
// Knossos's EDN with our reader and Knossos's cas-register model (knossos_edn_test.go), on
// each file named in CONLAB_BENCH_FILES, best of CONLAB_BENCH_RUNS runs. One line per file:
//   porcupine FILE VERDICT SECONDS
package porcupine

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestConlabBench(t *testing.T) {
	files := strings.Fields(os.Getenv("CONLAB_BENCH_FILES"))
	runs, err := strconv.Atoi(os.Getenv("CONLAB_BENCH_RUNS"))
	if err != nil || runs < 1 {
		runs = 3
	}
	for _, f := range files {
		var model Model
		var events []Event
		if strings.HasSuffix(f, ".log") {
			model, events = etcdModel, parseJepsenLog(f)
		} else if strings.HasSuffix(f, ".edn") {
			model, events = knossosCasModel, parseKnossosEdn(f) // knossos_edn_test.go
		} else {
			model, events = kvModel, parseKvLog(f)
		}
		best := time.Duration(1 << 62)
		verdict := false
		for r := 0; r < runs; r++ {
			t0 := time.Now()
			verdict = CheckEvents(model, events)
			if d := time.Since(t0); d < best {
				best = d
			}
		}
		v := "linearizable"
		if !verdict {
			v = "not-linearizable"
		}
		fmt.Printf("porcupine %s %s %.6f\n", f, v, best.Seconds())
	}
}
