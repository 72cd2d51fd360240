#!/usr/bin/env bash
# Train and validate the ablation arms of models/configs/ablation.yaml, one after another (resumable: a
# finished arm's generators resume at their last step and only validate again). Results: runs/ablation/<arm>.txt
#   bash models/ablation.sh [arm ...]      arms: full no_adversarial no_synthetic no_dwt (default: all)
set -euo pipefail
config=models/configs/ablation.yaml
declare -A arm_sets=(
  [full]=""
  [no_adversarial]="--set adversarial=false --set only=[gray]"
  [no_synthetic]="--set synthetic_pages=0 --set only=[gray]"
  [no_dwt]="--set dwt=false --set only=[red]"
)
arms=("$@")
[[ ${#arms[@]} -gt 0 ]] || arms=(full no_adversarial no_synthetic no_dwt)
for arm in "${arms[@]}"; do
  [[ -v arm_sets[$arm] ]] || { echo "unknown arm $arm (known: ${!arm_sets[*]})" >&2; exit 2; }
done
for arm in "${arms[@]}"; do
  dir=runs/ablation/$arm
  # shellcheck disable=SC2086
  docbin train --config $config --set checkpoint_dir=$dir --set log_dir=$dir ${arm_sets[$arm]}
  for ckpt in "$dir"/*.small.pt; do
    echo "== $arm $(basename "$ckpt" .small.pt)"
    python -m docbin.models.validate "$ckpt"
  done | tee "runs/ablation/$arm.txt"
done
