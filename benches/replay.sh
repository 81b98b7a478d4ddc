#!/usr/bin/env bash
# Replay benchmark: `ruleforge replay` with every EQL+KQL rule of the Elastic corpus over
# generated Elastic Defend events, against the parse-only limit, with peak RSS.
#   benches/replay.sh [EVENTS...]        default: 100000 1000000
#   benches/replay.sh equivalence [N]    the streaming engine against the per-rule engine on
#                                        every corpus rule over N generated events (default
#                                        100000; CI runs the same test over 3,000)
# Needs ../shared (the corpus) and /usr/bin/time. Prints one table row per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [ "${1:-}" = equivalence ]; then
  RULEFORGE_EQUIVALENCE_EVENTS="${2:-100000}" exec cargo test --release --locked \
    --test replay_equivalence every_corpus_rule -- --nocapture
fi
CORPUS="${CORPUS:-../shared/corpus/elastic-detection-rules}"
WORK="${WORK:-$(mktemp -d)}"
SIZES=("${@:-100000 1000000}")
cargo build --release --quiet --bin ruleforge --bin ruleforge-gen-events
BIN="$CARGO_TARGET_DIR/release"
# A root whose config names only the rules of some rule dir (for the 100-rule scaling row).
mkdir -p "$WORK/r100/rules"
{ find "$CORPUS/rules" -path '*/_deprecated' -prune -o -name '*.toml' -print | sort | head -100 || true; } | while read -r f; do cp "$f" "$WORK/r100/rules/"; done
printf 'rule_dirs = ["rules"]\n' > "$WORK/r100/ruleforge.toml"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %U %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || true
  read -r wall user rss < "$WORK/time"
  local summary; summary=$(grep -E '^(replay|parse):' "$WORK/out" | tail -1 || true)
  printf '| %-28s | %8ss | %8ss | %7d MiB | %s\n' "$label" "$wall" "$user" $((rss / 1024)) "$summary"
}

echo "| run | wall | user CPU | peak RSS | summary"
for n in ${SIZES[@]}; do
  f="$WORK/ev$n.ndjson"
  [ -f "$f" ] || "$BIN/ruleforge-gen-events" --events "$n" --rules "$CORPUS/rules" --rules "$CORPUS/rules_building_block" > "$f"
  measure "$n parse only (limit)" "$BIN/ruleforge-gen-events" --parse-only "$f"
  measure "$n all corpus rules" "$BIN/ruleforge" -C "$CORPUS" replay "$f"
  measure "$n 100 rules" "$BIN/ruleforge" -C "$WORK/r100" replay "$f"
  measure "$n one rule (EQL)" "$BIN/ruleforge" -C "$CORPUS" replay --rule command_and_control_cat_network_activity "$f"
done
