#!/bin/sh
# Every shipped lesson's solution path passes against real node processes
# (tests/lessons/run_solutions.sh: `conlab lesson script ID | conlab script`), and every
# lesson and quiz file validates. Thirty lessons run one after another (each bounded by 240 s
# in run_solutions.sh):
# timeout: 1500
bin=${CONLAB_BIN:-bin}
CONLAB_BIN=$bin
CONLAB_LESSONS=lessons
export CONLAB_BIN CONLAB_LESSONS
"$bin/conlab" lesson validate lessons/*.yaml lessons/quiz/*.yaml > /dev/null || {
    echo "lesson validate failed:"
    "$bin/conlab" lesson validate lessons/*.yaml lessons/quiz/*.yaml 2>&1 | grep -v ': ok ('
    exit 1
}
sh tests/lessons/run_solutions.sh
