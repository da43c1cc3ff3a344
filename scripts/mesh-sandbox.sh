#!/usr/bin/env bash
# Run NHS Digital's MESH sandbox (PyPI mesh-sandbox) on 127.0.0.1 for tests, with our launcher
# (tests/mesh/launcher.py: extra mailboxes/workflows + GPPROVIDER routing emulation).
#
#   scripts/mesh-sandbox.sh start  [NAME]   start (or restart) instance NAME (default: http), print its URL
#   scripts/mesh-sandbox.sh stop   [NAME]   stop it (quiet if not running)
#   scripts/mesh-sandbox.sh status [NAME]   say whether it runs (exit 1 if not)
#   scripts/mesh-sandbox.sh url    [NAME]   print its URL (exit 1 if not running)
#
# MESH_SANDBOX_TLS=1 at start: HTTPS with mutual TLS; the instance dir then holds ca.pem,
# client.pem, client.key (and client-identity.pem = client.pem + client.key).
# State lives in <repo>/.mesh-sandbox/: venv/ (shared) and NAME/ (store/, sandbox.log,
# sandbox.pid, url, certificates). See tests/mesh/README.md.
set -euo pipefail

MESH_SANDBOX_VERSION=1.0.137
SHARED_KEY=TestKey
HEALTH_TIMEOUT_S=30

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
STATE_DIR=$ROOT/.mesh-sandbox
VENV=$STATE_DIR/venv
CONFIG_DIR=$ROOT/tests/mesh
PYTHON=${MESH_SANDBOX_PYTHON:-python3}

die() { echo "mesh-sandbox: $*" >&2; exit 1; }
note() { echo "mesh-sandbox: $*" >&2; }

usage() {
    echo "usage: $0 {start|stop|status|url} [NAME]" >&2
    exit 2
}

instance_dir() {
    local name=$1
    [[ $name =~ ^[A-Za-z0-9_-]+$ && $name != venv ]] || die "bad instance name '$name' (letters, digits, _ and -; not 'venv')"
    echo "$STATE_DIR/$name"
}

# the process exists and is not a zombie (a detached server that exited stays a zombie until
# init reaps it, which can take a second or two)
alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || state=
    [[ $state != Z ]]
}

# PID from the pid file if that process is alive and is our uvicorn; empty otherwise
running_pid() {
    local dir=$1 pid
    [[ -f $dir/sandbox.pid ]] || return 0
    pid=$(<"$dir/sandbox.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    alive "$pid" || return 0
    # guard against a recycled PID: it must be the uvicorn we started
    if [[ -r /proc/$pid/cmdline ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'uvicorn launcher:app'; then
        return 0
    fi
    echo "$pid"
}

check_python() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        echo "mesh-sandbox: $PYTHON not found; mesh-sandbox $MESH_SANDBOX_VERSION needs Python 3.11-3.13" \
            "(set MESH_SANDBOX_PYTHON to another interpreter)" >&2
        exit 2
    fi
    local version
    version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || version=unknown
    case $version in
        3.11 | 3.12 | 3.13) ;;
        *)
            echo "mesh-sandbox: $PYTHON is Python $version; mesh-sandbox $MESH_SANDBOX_VERSION needs 3.11-3.13" \
                "(set MESH_SANDBOX_PYTHON to another interpreter)" >&2
            exit 2
            ;;
    esac
}

venv_ok() {
    [[ -x $VENV/bin/python ]] &&
        "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mesh-sandbox') != '$MESH_SANDBOX_VERSION')" 2>/dev/null
}

ensure_venv() {
    mkdir -p "$STATE_DIR"
    # two instances may be started at once: one installs, the other waits
    exec 9>"$STATE_DIR/venv.lock"
    flock 9
    if ! venv_ok; then
        check_python
        note "creating $VENV (pip install mesh-sandbox==$MESH_SANDBOX_VERSION)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mesh-sandbox==$MESH_SANDBOX_VERSION" >&2 ||
            { rm -rf "$VENV"; die "pip install mesh-sandbox==$MESH_SANDBOX_VERSION failed"; }
    fi
    exec 9>&-
}

free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# test CA, server certificate (127.0.0.1 / localhost) and client certificate, once per instance dir
ensure_certs() {
    local dir=$1 f
    mkdir -p "$dir"
    for f in ca.pem ca.key server.pem server.key client.pem client.key client-identity.pem; do
        [[ -s $dir/$f ]] || { make_certs "$dir"; return; }
    done
}

make_certs() {
    local dir=$1 tmp=$1/certs.tmp
    command -v openssl >/dev/null 2>&1 || die "openssl not found (needed for MESH_SANDBOX_TLS=1)"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    cat >"$tmp/ca.ext" <<'EOF'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    cat >"$tmp/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
    cat >"$tmp/client.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:SERVER001.X26.api.mesh-client.nhs.uk
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
    serial() { echo "0x$(openssl rand -hex 12)"; } # positive, < 20 bytes
    # EC P-256 keys (PKCS#8 PEM), SHA-256 signatures, X.509 v3
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key" 2>/dev/null
    openssl req -new -key "$tmp/ca.key" -subj "/CN=mesh-sandbox test CA" -out "$tmp/ca.csr"
    openssl x509 -req -in "$tmp/ca.csr" -signkey "$tmp/ca.key" -sha256 -days 3650 -set_serial "$(serial)" \
        -extfile "$tmp/ca.ext" -out "$tmp/ca.pem" 2>/dev/null
    local who cn
    for who in server client; do
        if [[ $who == server ]]; then cn=localhost; else cn=SERVER001.X26.api.mesh-client.nhs.uk; fi
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$who.key" 2>/dev/null
        openssl req -new -key "$tmp/$who.key" -subj "/CN=$cn" -out "$tmp/$who.csr"
        openssl x509 -req -in "$tmp/$who.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -sha256 -days 3650 \
            -set_serial "$(serial)" -extfile "$tmp/$who.ext" -out "$tmp/$who.pem" 2>/dev/null
        openssl verify -CAfile "$tmp/ca.pem" "$tmp/$who.pem" >/dev/null || die "generated $who certificate does not verify"
    done
    cat "$tmp/client.pem" "$tmp/client.key" >"$tmp/client-identity.pem"
    chmod 600 "$tmp"/*.key "$tmp/client-identity.pem"
    for f in ca.pem ca.key server.pem server.key client.pem client.key client-identity.pem; do
        mv -f "$tmp/$f" "$dir/$f"
    done
    rm -rf "$tmp"
}

# kill exactly the PID in the pid file: TERM, up to 5 s, then KILL
stop_instance() {
    local dir=$1 pid i
    pid=$(running_pid "$dir")
    if [[ -n $pid ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                alive "$pid" || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$dir/sandbox.pid" "$dir/url"
}

health_ok() {
    local url=$1 dir=$2
    if [[ $url == https:* ]]; then
        curl -fsS -o /dev/null --max-time 2 --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key" \
            "$url/health" 2>/dev/null
    else
        curl -fsS -o /dev/null --max-time 2 "$url/health" 2>/dev/null
    fi
}

# one attempt on one port: 0 healthy, 1 failed, 3 port was taken (caller retries)
launch() {
    local dir=$1 port=$2 scheme=$3 pid url deadline
    local -a tls_args=()
    if [[ $scheme == https ]]; then
        tls_args=(--ssl-certfile "$dir/server.pem" --ssl-keyfile "$dir/server.key"
            --ssl-ca-certs "$dir/ca.pem" --ssl-cert-reqs 2)
    fi
    url="$scheme://127.0.0.1:$port"
    : >"$dir/sandbox.log"
    # setsid + nohup: own session, survives this script and its terminal; no fork, so $! is uvicorn
    (
        cd "$ROOT"
        exec setsid nohup env \
            AUTH_MODE=full STORE_MODE=file SHARED_KEY="$SHARED_KEY" \
            MAILBOXES_DATA_DIR="$dir/store" MESH_SANDBOX_CONFIG_DIR="$CONFIG_DIR" \
            PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
            "$VENV/bin/python" -m uvicorn launcher:app --app-dir "$CONFIG_DIR" \
            --host 127.0.0.1 --port "$port" "${tls_args[@]}" \
            >>"$dir/sandbox.log" 2>&1 </dev/null
    ) &
    pid=$!
    disown "$pid" # no job-status noise from bash if it dies or is killed
    echo "$pid" >"$dir/sandbox.pid"

    deadline=$((SECONDS + HEALTH_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        if health_ok "$url" "$dir"; then
            echo "$url" >"$dir/url"
            return 0
        fi
        if ! alive "$pid"; then
            rm -f "$dir/sandbox.pid"
            if grep -qi 'address already in use' "$dir/sandbox.log"; then
                return 3
            fi
            note "sandbox exited during start-up; last lines of $dir/sandbox.log:"
            tail -n 30 "$dir/sandbox.log" >&2
            return 1
        fi
        sleep 0.1
    done
    note "sandbox not healthy after ${HEALTH_TIMEOUT_S}s at $url; last lines of $dir/sandbox.log:"
    tail -n 30 "$dir/sandbox.log" >&2
    stop_instance "$dir"
    return 1
}

cmd_start() {
    local name=$1 dir scheme=http attempt rc
    dir=$(instance_dir "$name")
    command -v curl >/dev/null 2>&1 || die "curl not found"
    if [[ -n $(running_pid "$dir") ]]; then
        note "instance '$name' was running; restarting it"
    fi
    stop_instance "$dir"
    ensure_venv
    mkdir -p "$dir"
    rm -rf "$dir/store"
    mkdir -p "$dir/store"
    if [[ ${MESH_SANDBOX_TLS:-} == 1 ]]; then
        scheme=https
        ensure_certs "$dir"
    fi
    for attempt in 1 2 3; do
        rc=0
        launch "$dir" "$(free_port)" "$scheme" || rc=$?
        case $rc in
            0)
                cat "$dir/url"
                return 0
                ;;
            3) note "port taken, retrying (attempt $attempt)" ;;
            *) exit 1 ;;
        esac
    done
    die "could not bind a free port"
}

cmd_stop() {
    local dir
    dir=$(instance_dir "$1")
    stop_instance "$dir"
}

cmd_status() {
    local name=$1 dir pid
    dir=$(instance_dir "$name")
    pid=$(running_pid "$dir")
    if [[ -n $pid ]]; then
        echo "$name: running, pid $pid, $(cat "$dir/url" 2>/dev/null || echo 'url not yet known')"
    else
        echo "$name: not running"
        return 1
    fi
}

cmd_url() {
    local dir
    dir=$(instance_dir "$1")
    [[ -n $(running_pid "$dir") && -s $dir/url ]] || die "instance '$1' is not running"
    cat "$dir/url"
}

[[ $# -ge 1 && $# -le 2 ]] || usage
NAME=${2:-http}
case $1 in
    start) cmd_start "$NAME" ;;
    stop) cmd_stop "$NAME" ;;
    status) cmd_status "$NAME" ;;
    url) cmd_url "$NAME" ;;
    *) usage ;;
esac
