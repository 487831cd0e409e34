#!/usr/bin/env python3
"""Benchmark of the API's auth path against the HTTP baseline, on SQLite and on Postgres.

Builds the release binary, seeds TOKENS tokens into a fresh database, starts the server, and
loads GET /healthz, GET /api/v1/me and GET /auth/verify (forward auth, the same token) with wrk
(64 connections, DURATION seconds each), beside a bare actix-web "hello" server
(examples/hello.rs, no middleware), alternating them over ROUNDS rounds and keeping the best of
each. Through nginx (when installed) it loads a small upstream with and without auth_request to
/auth/verify, for information. Then times the list page
of an administrator whose account holds all those tokens. Prints requests/s, p50, p99 and the
api/healthz ratio per backend.

    python3 bench/run.py            # needs wrk (apt-get install wrk) and, for Postgres,
                                    # BENCH_POSTGRES_URL or a local server as user postgres
On Postgres the API is loaded once more through examples/delay_proxy.rs, which adds DELAY_MS (1)
each way between server and database, as a database on another machine would: with CONNECTIONS
and with four times as many (a closed loop of C connections gets at most C / latency answers).
Then, in a fresh database, one account of LARGE_TOKENS tokens: medians of the administrator's
list page (first page, filtered, page 400) and of GET /api/v1/tokens (first page, page 400),
both as curl's time to first byte and as the server's own latency_ms from its access log.
Settings (environment): TOKENS=10000 DURATION=10 CONNECTIONS=64 ROUNDS=3 LIST_SAMPLES=50
BACKENDS=sqlite,postgres LARGE_TOKENS=100000 (0 skips a part; TOKENS=0 runs only the large account)
DELAY_MS=1 (0 skips the delayed run)
BENCH_BINARY=path (a server built from another commit; the seed is still built from this one)
"""

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENS = int(os.environ.get("TOKENS", "10000"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
LIST_SAMPLES = int(os.environ.get("LIST_SAMPLES", "50"))
BACKENDS = os.environ.get("BACKENDS", "sqlite,postgres").split(",")
LARGE_TOKENS = int(os.environ.get("LARGE_TOKENS", "100000"))
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password 123"
# BENCH_BINARY: a server built elsewhere (an older commit, to compare in one run); not rebuilt.
BINARY = os.environ.get("BENCH_BINARY", os.path.join(ROOT, "target/release/personal-tokens"))
SEED = os.path.join(ROOT, "target/release/examples/seed")
PROXY = os.path.join(ROOT, "target/release/examples/delay_proxy")
HELLO = os.path.join(ROOT, "target/release/examples/hello")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
DELAY_MS = int(os.environ.get("DELAY_MS", "1"))
FAR_CONNECTIONS = 4 * CONNECTIONS


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, token=None, connections=CONNECTIONS):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    p99 = to_ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"wrk saw {errors.group(1)} error responses from {url}:\n{out}")
    return {"rps": rps, "p50": p50, "p99": p99}


def curl(args):
    return subprocess.run(["curl", "-sS", *args], check=True, capture_output=True, text=True).stdout


def sign_in(base, jar):
    page = curl(["-c", jar, "-b", jar, f"{base}/login"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": "bench", "password": PASSWORD})
    curl(["-c", jar, "-b", jar, "-o", "/dev/null", "--data", form, f"{base}/login"])


def median_ms(url, auth, request_id="bench"):
    """Median time to first byte over LIST_SAMPLES sequential requests (on loopback, the
    server's time plus a few tens of microseconds). Each request carries X-Request-Id
    `request_id`-N, so the server's own access lines can be matched to it."""
    times = []
    for n in range(LIST_SAMPLES):
        out = curl([*auth, "-H", f"X-Request-Id: {request_id}-{n}", "-o", "/dev/null",
                    "-w", "%{http_code} %{time_starttransfer}", url])
        code, seconds = out.split()
        if code != "200":
            sys.exit(f"{url} answered {code}")
        times.append(float(seconds) * 1000)
    return statistics.median(times)


def list_page_median(base, jar):
    sign_in(base, jar)
    return median_ms(f"{base}/tokens", ["-b", jar])


@contextlib.contextmanager
def delayed(database_url):
    """The same database behind a proxy that adds DELAY_MS each way, as a remote one would."""
    parsed = urllib.parse.urlparse(database_url)
    port = free_port()
    proxy = subprocess.Popen([PROXY, f"127.0.0.1:{port}", f"{parsed.hostname}:{parsed.port or 5432}", str(DELAY_MS)],
                             stdout=subprocess.DEVNULL)
    # The server fails fast on a database it cannot reach: wait until the proxy listens.
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        netloc = parsed.netloc.rsplit("@", 1)
        netloc[-1] = f"127.0.0.1:{port}"
        yield parsed._replace(netloc="@".join(netloc)).geturl()
    finally:
        proxy.terminate()
        proxy.wait()


def wait_until_up(base):
    """Until `base` answers /healthz (at most ten seconds)."""
    for _ in range(100):
        try:
            curl(["-o", "/dev/null", f"{base}/healthz"])
            return
        except subprocess.CalledProcessError:
            time.sleep(0.1)


def start_server(database_url, access_log=None):
    """The server on a free port; with `access_log` (a file), its JSON access lines go there."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, BIND_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn")
    if access_log:
        env.update(RUST_LOG="warn,personal_tokens::access=info", LOG_FORMAT="json")
    server = subprocess.Popen([BINARY], env=env, stderr=access_log)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    return server, base


def seed(database_url, count):
    started = time.monotonic()
    token = subprocess.run([SEED, database_url, str(count), PASSWORD], check=True,
                           capture_output=True, text=True).stdout.strip()
    return token, time.monotonic() - started


LARGE_PAGES = (
    ("list, first page", "/tokens"),
    ("list, filtered", "/tokens?role=read_only&status=active"),
    ("list, name search", "/tokens?q=seed-0123"),
    ("list, page 400", "/tokens?page=400"),
    ("API list", "/api/v1/tokens"),
    ("API list, page 400", "/api/v1/tokens?page=400"),
)


def large_account(name, database_url):
    """An administrator whose account holds LARGE_TOKENS tokens: medians of the list page
    (first, filtered, page 400) and of GET /api/v1/tokens."""
    print(f"\n== {name}: seeding {LARGE_TOKENS} tokens in one account", flush=True)
    token, took = seed(database_url, LARGE_TOKENS)
    print(f"   seeded in {took:.1f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "access.log")
        with open(log_path, "w") as log:
            server, base = start_server(database_url, access_log=log)
            try:
                jar = os.path.join(tmp, "jar")
                sign_in(base, jar)
                results = {}
                for n, (label, path) in enumerate(LARGE_PAGES):
                    auth = ["-H", f"Authorization: Bearer {token}"] if path.startswith("/api") else ["-b", jar]
                    results[label] = [median_ms(f"{base}{path}", auth, f"large-{n}")]
            finally:
                server.terminate()
                server.wait()
        served = server_times(log_path)
        for n, (label, _) in enumerate(LARGE_PAGES):
            times = served.get(f"large-{n}", [])
            results[label].append(statistics.median(times) if times else float("nan"))
            print(f"   {label:20} median {results[label][0]:.1f} ms to first byte, "
                  f"{results[label][1]:.1f} ms in the server", flush=True)
    return results, took


def server_times(log_path):
    """latency_ms of the server's access lines, by request id prefix (the part before the last -)."""
    times = {}
    with open(log_path) as log:
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            request_id = entry.get("request_id")
            if entry.get("latency_ms") is None or not request_id or "-" not in request_id:
                continue
            times.setdefault(request_id.rsplit("-", 1)[0], []).append(float(entry["latency_ms"]))
    return times


@contextlib.contextmanager
def bare_server():
    """examples/hello.rs on a free port: the stack with no middleware."""
    port = free_port()
    server = subprocess.Popen([HELLO, f"127.0.0.1:{port}"])
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    try:
        yield base
    finally:
        server.terminate()
        server.wait()


@contextlib.contextmanager
def nginx_in_front(app_base, upstream_base):
    """A private nginx: on one port a plain proxy to `upstream_base`, on another the same with
    auth_request to the app's /auth/verify (the README's recipe, asking for no scope)."""
    plain, guarded = free_port(), free_port()
    app = app_base.removeprefix("http://")
    upstream = upstream_base.removeprefix("http://")
    with tempfile.TemporaryDirectory() as tmp:
        config = f"""master_process off;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream service {{ server {upstream}; keepalive 64; }}
  upstream tokens {{ server {app}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{plain};
    location / {{ proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://service; }}
  }}
  server {{
    listen 127.0.0.1:{guarded};
    location / {{
      auth_request /_verify;
      proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://service;
    }}
    location = /_verify {{
      internal;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass http://tokens/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }}
  }}
}}
"""
        path = os.path.join(tmp, "nginx.conf")
        with open(path, "w") as f:
            f.write(config)
        nginx = subprocess.Popen([NGINX, "-p", tmp, "-e", f"{tmp}/error.log", "-c", path, "-g", "daemon off;"])
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", guarded)) == 0:
                    break
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{plain}", f"http://127.0.0.1:{guarded}"
        finally:
            nginx.terminate()
            nginx.wait()


def run_backend(name, database_url):
    print(f"\n== {name}: seeding {TOKENS} tokens", flush=True)
    token, took = seed(database_url, TOKENS)
    print(f"   seeded in {took:.1f} s", flush=True)
    server, base = start_server(database_url)
    try:
        best = {"healthz": None, "api": None, "verify": None, "bare": None}
        with bare_server() as bare:
            for round_number in range(1, ROUNDS + 1):
                for route, url, auth in (("bare", f"{bare}/healthz", None),
                                         ("healthz", f"{base}/healthz", None),
                                         ("api", f"{base}/api/v1/me", token),
                                         ("verify", f"{base}/auth/verify", token)):
                    result = wrk(url, auth)
                    print(f"   round {round_number} {route:8} {result['rps']:>10.0f} req/s  "
                          f"p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms", flush=True)
                    if best[route] is None or result["rps"] > best[route]["rps"]:
                        best[route] = result
            if NGINX:
                with nginx_in_front(base, bare) as (plain, guarded):
                    for route, url in (("nginx", f"{plain}/healthz"), ("nginx_auth", f"{guarded}/healthz")):
                        result = wrk(url, token)
                        print(f"   nginx {route:10} {result['rps']:>10.0f} req/s  "
                              f"p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms", flush=True)
                        best[route] = result
        with tempfile.TemporaryDirectory() as tmp:
            list_ms = list_page_median(base, os.path.join(tmp, "jar"))
    finally:
        server.terminate()
        server.wait()
    if name == "postgres" and DELAY_MS:
        with delayed(database_url) as far_url:
            server, base = start_server(far_url)
            try:
                # A closed loop of C connections answers at most C / latency requests a
                # second, and the delay sets a floor under latency: FAR_CONNECTIONS shows
                # whether more callers get more answers (the database is far, not saturated).
                for round_number in range(1, ROUNDS + 1):
                    for key, connections in (("api_delayed", CONNECTIONS), ("api_delayed_far", FAR_CONNECTIONS)):
                        result = wrk(f"{base}/api/v1/me", token, connections)
                        print(f"   round {round_number} api +{DELAY_MS}ms c{connections:<4} {result['rps']:>8.0f} req/s  "
                              f"p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms", flush=True)
                        if key not in best or result["rps"] > best[key]["rps"]:
                            best[key] = result
            finally:
                server.terminate()
                server.wait()
    return best, list_ms


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    subprocess.run(["cargo", "build", "--release", "--example", "seed", "--example", "delay_proxy",
                    "--example", "hello"]
                   + ([] if "BENCH_BINARY" in os.environ else ["--bin", "personal-tokens"]),
                   cwd=ROOT, check=True)
    results, large = {}, {}
    for backend in BACKENDS:
        cases = [(run_backend, results)] if TOKENS else []
        if LARGE_TOKENS:
            cases.append((large_account, large))
        for run, into in cases:
            with fresh_database(backend) as url:
                into[backend] = run(backend, url)

    if results:
        print_load(results)
    print_large(large)


def print_load(results):
    print(f"\nBest of {ROUNDS} rounds, {CONNECTIONS} connections, {DURATION} s each, {os.cpu_count()} cores; "
          f"{TOKENS} tokens seeded")
    print(f"{'backend':9} {'route':14} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for backend, (best, list_ms) in results.items():
        routes = [("bare", "bare /healthz"), ("healthz", "/healthz"), ("api", "/api/v1/me"),
                  ("verify", "/auth/verify")]
        if "api_delayed" in best:
            routes.append(("api_delayed", f"/api +{DELAY_MS}ms"))
            routes.append(("api_delayed_far", f"  c{FAR_CONNECTIONS}"))
        for route, label in routes:
            r = best[route]
            print(f"{backend:9} {label:14} {r['rps']:>10.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}")
        print(f"{backend:9} {'api/healthz':14} {best['api']['rps'] / best['healthz']['rps']:>10.2f}")
        print(f"{backend:9} {'verify/api':14} {best['verify']['rps'] / best['api']['rps']:>10.2f}   (goal: at least 0.95)")
        print(f"{backend:9} {'healthz/bare':14} {best['healthz']['rps'] / best['bare']['rps']:>10.2f}   (goal: at least 0.9)")
        if "nginx" in best:
            print(f"{backend:9} {'nginx':14} {best['nginx']['rps']:>10.0f} req/s plain, "
                  f"{best['nginx_auth']['rps']:.0f} with auth_request "
                  f"({best['nginx_auth']['rps'] / best['nginx']['rps']:.2f})")
        print(f"{backend:9} {'p99/p50':14} {best['api']['p99'] / best['api']['p50']:>10.1f}"
              f"   (/healthz, no database: {best['healthz']['p99'] / best['healthz']['p50']:.1f})")
        if "api_delayed" in best:
            print(f"{backend:9} {'delayed/api':14} {best['api_delayed']['rps'] / best['api']['rps']:>10.2f}"
                  f"   (database behind {DELAY_MS} ms each way)")
        print(f"{backend:9} {'list page':14} median {list_ms:.1f} ms (admin, {TOKENS} tokens, {LIST_SAMPLES} requests)")


def print_large(large):
    for backend, (medians, took) in large.items():
        print(f"\n{backend}: one account of {LARGE_TOKENS} tokens (seeded in {took:.1f} s), "
              f"median of {LIST_SAMPLES} sequential requests")
        print(f"{'backend':9} {'page':20} {'first byte':>10} {'server':>8}")
        for label, (ttfb, served) in medians.items():
            print(f"{backend:9} {label:20} {ttfb:>7.1f} ms {served:>5.1f} ms")


@contextlib.contextmanager
def fresh_database(backend):
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield os.path.join(tmp, "bench.db")
        return
    db = f"pt_bench_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", PG_ADMIN, "-qc", f'CREATE DATABASE "{db}"'], check=True)
    try:
        yield urllib.parse.urlparse(PG_ADMIN)._replace(path=f"/{db}").geturl()
    finally:
        subprocess.run(["psql", PG_ADMIN, "-qc", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'], check=False)


if __name__ == "__main__":
    main()
