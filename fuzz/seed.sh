#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs read at run time from the project's own rules/,
# fixtures/, tests/data/ and snapshots/, and from the shared reference data when present (rule
# corpus, queries extracted from it and from the EQL conformance specs, event data files).
# Seeds are never committed (fuzz/corpus is ignored). Idempotent: files are named by content.
#
# usage: fuzz/seed.sh [SHARED_DIR]     (default: ../shared beside the repository)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
shared="${1:-$repo/../shared}"
if [ ! -d "$shared" ]; then
  echo "seed: $shared absent; seeding from the project's own files only"
  shared=""
fi
exec python3 - "$repo" "$here/corpus" "$shared" <<'PY'
import hashlib, json, pathlib, sys, tomllib

repo, out, shared = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
shared = pathlib.Path(shared) if shared else None
MAX = 256 * 1024  # larger inputs only slow the fuzzer down
counts = {}

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    p = d / hashlib.sha1(data).hexdigest()[:16]
    if not p.exists():
        p.write_bytes(data)
        counts[target] = counts.get(target, 0) + 1

def files(root, *globs):
    if root is None or not root.is_dir():
        return []
    return sorted(f for g in globs for f in root.rglob(g) if f.is_file())

def toml(path):
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None

def query_seed(target, query, events=None):
    # Query targets read the query before the first NUL and NDJSON events after it.
    if not isinstance(query, str):
        return
    put(target, query)
    if events:
        if isinstance(events, list):
            events = "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events)
        put(target, query + "\0" + events)

LANG = {"eql": "eql", "esql": "esql", "kuery": "kql", "lucene": "lucene"}
corpus = shared / "corpus" if shared else None

# Rules: the project's own, the lint test data (deliberately broken files too), the corpus.
for f in files(repo / "rules", "*.toml") + files(repo / "tests/data/lint", "*.toml") + files(corpus, "*.toml"):
    put("rule_load", f.read_bytes())
    doc = toml(f) or {}
    rule = doc.get("rule") if isinstance(doc.get("rule"), dict) else {}
    lang = LANG.get(rule.get("language"))
    if lang:
        query_seed(lang, rule.get("query"))
        if lang == "kql":
            query_seed("lucene", rule.get("query"))  # most KQL is also a Lucene query

# Fixture manifests and recordings.
for f in files(repo / "fixtures", "*.toml"):
    put("fixture_manifest", f.read_bytes())
for f in files(repo / "fixtures", "*.ndjson"):
    text = f.read_text(encoding="utf-8", errors="replace")
    put("event_parse", text)
    put("event_parse", "\n".join(text.splitlines()[:20]) + "\n")
for f in files(shared / "conformance" / "elasticsearch" / "data" if shared else None, "*.data") + files(shared / "data" / "endpoint" if shared else None, "*_process.json"):
    put("event_parse", f.read_bytes())

# Query test cases (with their events) from tests/data and the conformance specs.
for f in files(repo / "tests/data/eql", "*.toml"):
    for case in (toml(f) or {}).get("case", []):
        query_seed("eql", case.get("query"), case.get("events"))
for f in files(shared / "conformance" / "elasticsearch" if shared else None, "*.toml"):
    for case in (toml(f) or {}).get("queries", []):
        query_seed("eql", case.get("query"))
for f in files(repo / "tests/data/kql", "*.toml"):
    target = "lucene" if "lucene" in f.parts else "kql"
    for case in (toml(f) or {}).get("test", []):
        query_seed(target, case.get("query"), case.get("events"))
        if isinstance(case.get("events"), list):
            put("event_parse", "\n".join(e for e in case["events"] if isinstance(e, str)))

# Alert snapshots.
for f in files(repo / "snapshots", "*.snap"):
    put("snapshot_header", f.read_bytes())

for t in sorted(counts):
    print(f"seed: {t}: {counts[t]} new inputs")
PY
