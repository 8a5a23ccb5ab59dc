#!/usr/bin/env bash
# The DPO recipe attempts and ablations of the README: variants of configs/demo.yaml, each
# evaluated on 200 held-out problems per env against the same untrained student.
#
#   make demo                                      # first: the demo recipe, runs/demo
#   bash benchmarks/dpo_attempts.sh                # every variant (about 20 min each on 2 cores)
#   bash benchmarks/dpo_attempts.sh nomask shared  # some of them
#   python benchmarks/dpo_table.py runs/attempts/before runs/demo runs/attempts/*/
#
# A variant copies runs/demo's benchmark and rollouts unless it changes them (a pipeline rerun
# skips stages that are done), so the variants differ only in what their overrides name.
set -uo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/.venv/bin:$PATH"  # the project's venv (make install)
export CALLGYM_GSM8K_DIR=${CALLGYM_GSM8K_DIR:-$(cd .. && pwd)/shared/data/gsm8k} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
RUNS=${RUNS:-runs/attempts}
DEMO=${DEMO:-runs/demo}
BOOT='Reasoning("I need to reason step by step")'
EVAL=(--suite configs/heldout-200.yaml --backend vllm --bootstrap "$BOOT" --max-tokens 48 --lineage smollm2-135m)

declare -A OVERRIDES=(  # key=value overrides of configs/demo.yaml, separated by ';'
  [demo]=""                                # the demo recipe itself
  [nomask]="dpo.mask_env_tokens=false"     # env text counted in the log-probs, as in the study
  [noaug]="pairs.augment=false"            # each chain in one pair at most, not |Dw| x |Dl|
  [shared]="teacher.bootstrap=['$BOOT']"   # the oracle makes the student's bootstrap call too
  [sharedlong]="teacher.bootstrap=['$BOOT'];rollouts.n=32;dpo.sft_warmup_steps=32;dpo.max_steps=32"  # shared, 2x problems and steps
  [selfchosen]="rollouts.samples=8;rollouts.temperature=1.0;pairs.chosen_agents=[student]"
  # a second round from the demo's trained student, chosen = its own successes
  [selfchosen2]="student.model=$DEMO/train;rollouts.samples=8;rollouts.temperature=1.0;pairs.chosen_agents=[student]"
)
declare -A FRESH=(  # the stages a variant runs itself; the others are copied from the demo run
  [shared]="rollout-teacher" [sharedlong]="rollout-teacher rollout-student" [selfchosen]="rollout-student" [selfchosen2]="bench-before rollout-student"
)

[ $# -gt 0 ] || set -- demo nomask noaug shared sharedlong selfchosen selfchosen2
for name in "$@"; do
  [ -n "${OVERRIDES[$name]+set}" ] || { echo "unknown variant '$name'; known: ${!OVERRIDES[*]}"; exit 2; }
done
[ -d "$DEMO/rollout-student" ] || { echo "no $DEMO/rollout-student: run \`make demo\` first"; exit 2; }
[ -d "$RUNS/before" ] || callgym bench "${EVAL[@]}" --model smollm2-135m --tag before-dpo --out "$RUNS/before" || exit 1
for name in "$@"; do
  out=$RUNS/$name
  [ "$name" = demo ] && out=$DEMO
  mkdir -p "$out"
  for stage in bench-before rollout-teacher rollout-student; do
    [[ " ${FRESH[$name]:-} " == *" $stage "* ]] || [ -d "$out/$stage" ] || cp -r "$DEMO/$stage" "$out/"
  done
  IFS=';' read -r -a overrides <<< "${OVERRIDES[$name]}"
  if callgym pipeline --config configs/demo.yaml --out "$out" "${overrides[@]}"; then
    [ -d "$out/h200" ] || callgym bench "${EVAL[@]}" --model "$out/train" --tag "after-dpo-$name" \
      --exclude "$out/pairs" --out "$out/h200"
  else
    echo "variant $name stopped; its folder $out keeps what it made"
  fi
done
