#!/usr/bin/env bash
# Replay benchmark: `ruleforge replay` with every EQL and KQL rule of the Elastic corpus over
# generated Elastic Defend events, against the parse-only limit, with peak RSS.
#   benches/replay.sh [EVENTS...]        default: 100000 1000000
#   benches/replay.sh equivalence [N]    the streaming engine against the per-rule engine on
#                                        every corpus rule over N generated events (default
#                                        100000; CI runs the same test over 3,000)
#   benches/replay.sh stream MB          peak RSS of the non-sequence EQL/KQL corpus rules over MB
#                                        megabytes of events piped from the generator into
#                                        `ruleforge replay -` (nothing is written to disk)
# Needs ../shared (the corpus) and /usr/bin/time. Prints one table row per measurement, then
# events/s, the ratio to the parse limit and the scaling (events 100k -> 1M, rules 100 -> all).
# The parse limit is serde_json on both cores (the parser the engine uses).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [ "${1:-}" = equivalence ]; then
  RULEFORGE_EQUIVALENCE_EVENTS="${2:-100000}" exec cargo test --release --locked \
    --test replay_equivalence every_corpus_rule -- --nocapture
fi
CORPUS="${CORPUS:-../shared/corpus/elastic-detection-rules}"
WORK="${WORK:-$(mktemp -d)}"
cargo build --release --quiet --bin ruleforge --bin ruleforge-gen-events
BIN="$CARGO_TARGET_DIR/release"
GEN=("$BIN/ruleforge-gen-events" --rules "$CORPUS/rules" --rules "$CORPUS/rules_building_block")

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %U %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || true
  read -r wall user rss < "$WORK/time"
  local summary; summary=$(grep -E '^(replay|parse):' "$WORK/out" | tail -1 || true)
  printf '| %-28s | %8ss | %8ss | %7d MiB | %s\n' "$label" "$wall" "$user" $((rss / 1024)) "$summary"
  LAST_WALL=$wall
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; }

if [ "${1:-}" = stream ]; then
  # Non-sequence EQL/KQL rules only: their state is bounded by their windows, not the
  # recording. (ES|QL rules keep each recording's events whole until its end: unbounded.)
  mkdir -p "$WORK/noseq/rules"
  grep -rLE --include='*.toml' "^[[:space:]]*(query = ['\"]+)?sequence([[:space:]]|$)" \
    "$CORPUS/rules" "$CORPUS/rules_building_block" | grep -v '/_deprecated/' |
    xargs grep -L '^type = "esql"' |
    while read -r f; do cp "$f" "$WORK/noseq/rules/$(echo "$f" | md5sum | cut -c1-12).toml"; done
  printf 'rule_dirs = ["rules"]\n' > "$WORK/noseq/ruleforge.toml"
  n=$(( ${2:-10000} * 1000000 / 1070 ))  # the generator's events are ~1,070 bytes each
  echo "| run | wall | user CPU | peak RSS | summary"
  measure "${2:-10000} MB via stdin, no seq" bash -c \
    "set -o pipefail; \"\$@\" --events $n | '$BIN/ruleforge' -C '$WORK/noseq' replay -" _ "${GEN[@]}"
  exit 0
fi

SIZES=("${@:-100000 1000000}")
# The rule set of the measurement: every EQL and KQL rule of the corpus (rules/ and
# rules_building_block/, without _deprecated/), as the benchmark is defined. ES|QL rules are
# left out: each of their simulated executions reruns the query over its whole look-back window
# (Kibana's model), so they keep a recording's events and cost executions x window, not events.
mkdir -p "$WORK/all/rules" "$WORK/r100/rules"
{ grep -rL --include='*.toml' '^type = "esql"' "$CORPUS/rules" "$CORPUS/rules_building_block" |
    grep -v '/_deprecated/' | sort || true; } > "$WORK/rule-files"
while read -r f; do cp "$f" "$WORK/all/rules/$(echo "$f" | md5sum | cut -c1-12).toml"; done < "$WORK/rule-files"
# The first 100 of them (for the rule-count scaling row).
head -100 "$WORK/rule-files" | while read -r f; do cp "$f" "$WORK/r100/rules/$(echo "$f" | md5sum | cut -c1-12).toml"; done
printf 'rule_dirs = ["rules"]\n' | tee "$WORK/all/ruleforge.toml" > "$WORK/r100/ruleforge.toml"

echo "| run | wall | user CPU | peak RSS | summary"
declare -A ALL PARSE R100
for n in ${SIZES[@]}; do
  f="$WORK/ev$n.ndjson"
  [ -f "$f" ] || "${GEN[@]}" --events "$n" > "$f"
  measure "$n scan only (no tree)" "$BIN/ruleforge-gen-events" --scan-only "$f"
  measure "$n parse only (limit)" "$BIN/ruleforge-gen-events" --parse-only "$f"; PARSE[$n]=$LAST_WALL
  measure "$n all EQL+KQL rules" "$BIN/ruleforge" -C "$WORK/all" replay "$f"; ALL[$n]=$LAST_WALL
  measure "$n 100 rules" "$BIN/ruleforge" -C "$WORK/r100" replay "$f"; R100[$n]=$LAST_WALL
  measure "$n one rule (EQL)" "$BIN/ruleforge" -C "$CORPUS" replay --rule command_and_control_cat_network_activity "$f"
  [ -n "${KEEP:-}" ] || rm -f "$f"
done
echo
for n in ${SIZES[@]}; do
  echo "$n events: parse limit $(rate "$n" "${PARSE[$n]}") events/s, all rules $(rate "$n" "${ALL[$n]}") events/s," \
    "ratio all/limit $(ratio "${PARSE[$n]}" "${ALL[$n]}"), time 100 -> all rules x$(ratio "${ALL[$n]}" "${R100[$n]}")"
done
set -- ${SIZES[@]}
if [ $# -ge 2 ]; then
  echo "events $1 -> ${@: -1} (x$(ratio "${@: -1}" "$1")): all-rules time x$(ratio "${ALL[${@: -1}]}" "${ALL[$1]}")"
fi
