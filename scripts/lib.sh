# Shared by scripts/test and scripts/sandbox (sourced, not run).
# Expects REPO (the repository root) to be set; defines VENV.

VENV="$REPO/.venv"
SCRIPT_NAME="${SCRIPT_NAME:-$(basename "$0")}"

log() { printf '\n==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
    exit 1
}

# pip_install ARGS...: `pip install` into .venv, showing pip's output only
# when it fails (this machine's pip configuration warns about every package).
pip_install() {
    local output
    output="$(mktemp "${TMPDIR:-/tmp}/loginlimit-pip.XXXXXX")"
    if ! "$VENV/bin/python" -m pip install "$@" >"$output" 2>&1; then
        cat "$output" >&2
        rm -f "$output"
        die "pip install $* failed"
    fi
    rm -f "$output"
}

# ensure_venv EXTRA: .venv with `pip install -e .[EXTRA]`. Creates .venv with
# $PYTHON (default python3, which must be 3.11+) when it is missing, and
# reinstalls only when setup.py, pyproject.toml or the interpreter changed
# (a stamp file per extra in .venv remembers the last install).
ensure_venv() {
    local extra="$1" stamp="$VENV/.loginlimit-$1.stamp" want
    if [[ ! -x $VENV/bin/python ]]; then
        local python="${PYTHON:-python3}"
        command -v "$python" >/dev/null 2>&1 || die "$python not found; set PYTHON to a Python 3.11+ interpreter"
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
            die "$python is older than 3.11; set PYTHON to a Python 3.11+ interpreter"
        log "Creating .venv with $("$python" --version 2>&1)"
        "$python" -m venv "$VENV"
        pip_install --upgrade pip
    fi
    want="$(cat "$REPO/setup.py" "$REPO/pyproject.toml" | sha256sum | cut -d' ' -f1) $("$VENV/bin/python" --version 2>&1)"
    if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    log "Installing wagtail-loginlimit[$extra] (editable) into .venv"
    pip_install -e "$REPO[$extra]"
    printf '%s\n' "$want" >"$stamp"
}
