#!/bin/sh
# The ready-made CI of examples/ci/: both files are valid YAML with the
# shape GitHub Actions and GitLab CI need, and their commands, run as those
# systems run them (sh -e, the workflow's environment), do what they say
# against the sample image with the pvsub-scan of this build: the SARIF for
# code scanning is written and the job fails on findings; the GitLab job
# leaves a JUnit report valid against the Ant schema and fails on findings.
# On a clean image both pass.  The install steps (building pvsub itself)
# are not run: the build tree's pvsub-scan is first on PATH instead.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is needed (setup.sh installs it)"
XMLLINT=${XMLLINT:-xmllint}
command -v "$XMLLINT" >/dev/null 2>&1 || skip "xmllint is needed"
img="$top_builddir/examples/sample-guest.tar.gz"
[ -f "$img" ] || fail "the sample image was not built"
PATH="$top_builddir/pvsub-scan:$PATH"
export PATH

printf '\t.text\n\tret\n' | asm clean
tar -cf - clean.o | gzip -n > clean-image.tar.gz

# run-ci SYSTEM FILE WORKDIR: check FILE and run its commands in WORKDIR,
# where the image is where the file says (guest-image.tar.gz); prints one
# "step status" line per step run.
cat > run-ci.py <<'PY'
import os, subprocess, sys, yaml

system, path, work = sys.argv[1:4]
work = os.path.abspath(work)
doc = yaml.safe_load(open(path))

def run(script, env):
    with open(os.path.join(work, ".step.sh"), "w") as f:
        f.write(script)
    # the job log
    with open(os.path.join(work, ".log"), "a") as log:
        return subprocess.run(["sh", "-e", ".step.sh"], cwd=work, env=env, stdout=log,
                              stderr=subprocess.STDOUT).returncode

env = dict(os.environ)
if system == "github":
    # PyYAML reads the key "on" as YAML 1.1's true.
    on = doc.get("on", doc.get(True))
    assert "push" in on and "pull_request" in on, on
    assert doc["permissions"]["security-events"] == "write", doc["permissions"]
    job = doc["jobs"]["certify"]
    assert job["defaults"]["run"]["shell"] == "sh", "the steps are POSIX sh"
    steps = job["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert "github/codeql-action/upload-sarif" in uses, uses
    up = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")][0]
    assert up["with"]["sarif_file"] == "pvsub.sarif", up
    assert up["if"].startswith("always()"), "upload even when the verdict fails"
    ids = [s.get("id") for s in steps]
    assert ids.index("certify") < steps.index(up) < ids.index("verdict"), ids
    env.update({k: str(v) for k, v in doc["env"].items()})
    env["GITHUB_WORKSPACE"] = work
    env["GITHUB_ENV"] = os.path.join(work, ".github_env")
    open(env["GITHUB_ENV"], "w").close()
    failed = False
    for s in steps:
        if "run" not in s or s.get("id") == "install":
            continue
        if failed:  # a failed step skips the ones without if: always()
            print(s["id"], "skipped")
            continue
        st = run(s["run"], env)
        print(s["id"], st)
        failed = st != 0
        for line in open(env["GITHUB_ENV"]):
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
else:
    job = doc["pvsub-certify"]
    art = job["artifacts"]
    assert art["when"] == "always", "the report must survive a failed job"
    assert art["reports"]["junit"] == "pvsub-junit.xml", art
    assert any("make install" in l for l in job["before_script"]), job["before_script"]
    env.update({k: str(v) for k, v in job["variables"].items()})
    # GitLab runs the script's lines in one shell and stops at the first
    # failing one.
    print("script", run("\n".join(job["script"]) + "\n", env))
PY

# Each run in its own work directory, the image where the files expect it.
workdir() { # workdir DIR IMAGE
	mkdir "$1"
	[ -z "$2" ] || cp "$2" "$1/guest-image.tar.gz"
}

# --- GitHub Actions ------------------------------------------------------------
gh="$top_srcdir/examples/ci/github-workflow.yml"
workdir gh "$img"
python3 run-ci.py github "$gh" gh > gh.steps || fail "the GitHub workflow: $(cat gh.steps)"
[ "$(cat gh.steps)" = "certify 0
verdict 1" ] || fail "GitHub steps on the sample image: $(cat gh.steps)"
python3 - gh/pvsub.sarif <<'PY' || fail "the workflow's SARIF: $(cat gh/pvsub.sarif)"
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
assert d["version"] == "2.1.0"
assert len(run["results"]) == 5, len(run["results"])
for r in run["results"]:
    loc = r["locations"][0]["physicalLocation"]
    assert loc["region"]["startLine"] == 1, loc
    assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%", loc
    assert loc["artifactLocation"]["uri"].startswith("guest-image.tar.gz!./"), loc
    assert r["partialFingerprints"]["pvsubFinding/v2"], r
PY
[ -s gh/pvsub-junit.xml ] || fail "the workflow wrote no JUnit report"
workdir gh-clean clean-image.tar.gz
python3 run-ci.py github "$gh" gh-clean > ghc.steps || fail "the GitHub workflow: $(cat ghc.steps)"
[ "$(cat ghc.steps)" = "certify 0
verdict 0" ] || fail "GitHub steps on a clean image: $(cat ghc.steps)"
workdir gh-none ""
python3 run-ci.py github "$gh" gh-none > ghm.steps || fail "the GitHub workflow: $(cat ghm.steps)"
[ "$(cat ghm.steps)" = "certify 1
verdict skipped" ] || fail "GitHub steps without an image: $(cat ghm.steps)"
grep -q '^pvsub-scan: guest-image.tar.gz: No such file or directory$' gh-none/.log ||
	fail "the job log does not name the missing image: $(cat gh-none/.log)"

# --- GitLab CI -------------------------------------------------------------------
gl="$top_srcdir/examples/ci/gitlab-ci.yml"
workdir gl "$img"
python3 run-ci.py gitlab "$gl" gl > gl.steps || fail "the GitLab job: $(cat gl.steps)"
[ "$(cat gl.steps)" = "script 1" ] || fail "GitLab job on the sample image: $(cat gl.steps)"
grep -q '^guest-image.tar.gz!./boot/initrd.cpio.gz!lib/modules/gate_wrpkru.o: .text+0x6: wrpkru' gl/.log ||
	fail "the job log has no text report: $(cat gl/.log)"
"$XMLLINT" --noout --nonet --schema "$top_srcdir/tests/fixtures/junit-ant.xsd" \
	gl/pvsub-junit.xml 2>xerr || fail "the job's JUnit report: $(cat xerr)"
grep -q 'tests="7" failures="4" errors="0"' gl/pvsub-junit.xml ||
	fail "JUnit counts: $(cat gl/pvsub-junit.xml)"
workdir gl-clean clean-image.tar.gz
python3 run-ci.py gitlab "$gl" gl-clean > glc.steps || fail "the GitLab job: $(cat glc.steps)"
[ "$(cat glc.steps)" = "script 0" ] || fail "GitLab job on a clean image: $(cat glc.steps)"
workdir gl-none ""
python3 run-ci.py gitlab "$gl" gl-none > glm.steps || fail "the GitLab job: $(cat glm.steps)"
[ "$(cat glm.steps)" = "script 2" ] || fail "GitLab job without an image: $(cat glm.steps)"
exit 0
