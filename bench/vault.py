#!/usr/bin/env python3
"""Vault benchmark: encrypt-and-store and read-and-decrypt throughput of `hearth data add`
and `hearth data cat` against `age -e` / `age -d` on the same file in the same run, with
the peak resident memory of each process, at two file sizes (memory must stay flat).

Usage: bench/vault.py [SIZE_MIB ...]   (default: 256 1024; runs 3 rounds, prints medians)
Needs a release build (`cargo build --release`) and the `age` CLI.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEARTH = os.path.join(ROOT, "target", "release", "hearth")
ROUNDS = 3
OWNER_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def run(cmd, env=None, stdout=subprocess.DEVNULL, stdin=None):
    """Runs cmd; returns (seconds, peak RSS in MiB, stdout bytes if captured)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stdin=stdin, stderr=subprocess.PIPE)
    out = proc.stdout.read() if stdout == subprocess.PIPE else None
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed: {err}")
    return seconds, usage.ru_maxrss / 1024, out


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [256, 1024]
    if not os.path.exists(HEARTH):
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "hearth-cli"], cwd=ROOT, check=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        env = dict(os.environ, HEARTH_DATA_DIR=os.path.join(tmp, "data"), HEARTH_OWNER_KEY=OWNER_KEY)
        env.pop("HEARTH_PASSPHRASE", None)
        run([HEARTH, "init"], env=env)
        _, _, keygen = run(["age-keygen"], stdout=subprocess.PIPE)
        identity = os.path.join(tmp, "identity.txt")
        with open(identity, "wb") as f:
            f.write(keygen)
        recipient = next(l.split(": ")[1] for l in keygen.decode().splitlines() if l.startswith("# public key"))
        for size in sizes:
            src = os.path.join(tmp, f"plain-{size}.bin")
            with open(src, "wb") as f:
                chunk = os.urandom(1024 * 1024)
                for _ in range(size):
                    f.write(chunk)
            results = {k: [] for k in ("hearth add", "age -e", "hearth cat", "age -d")}
            for _ in range(ROUNDS):
                s, m, out = run([HEARTH, "data", "add", src, "--scope", "bench", "--json"], env=env, stdout=subprocess.PIPE)
                file_id = out.decode().split('"id": ')[1].split(",")[0]
                results["hearth add"].append((s, m))
                enc = os.path.join(tmp, "out.age")
                results["age -e"].append(run(["age", "-r", recipient, "-o", enc, src])[:2])
                results["hearth cat"].append(run([HEARTH, "data", "cat", file_id], env=env)[:2])
                results["age -d"].append(run(["age", "-d", "-i", identity, enc])[:2])
                run([HEARTH, "data", "rm", file_id], env=env)
                os.remove(enc)
            for name, samples in results.items():
                secs = statistics.median(s for s, _ in samples)
                rss = statistics.median(m for _, m in samples)
                rows.append((size, name, size / secs, secs, rss))
            os.remove(src)
    print(f"{'MiB':>6}  {'command':<11} {'MiB/s':>8} {'median s':>9} {'peak RSS MiB':>13}")
    for size, name, rate, secs, rss in rows:
        print(f"{size:>6}  {name:<11} {rate:>8.1f} {secs:>9.2f} {rss:>13.1f}")
    by = {(r[0], r[1]): r for r in rows}
    for size in sizes:
        add = by[(size, "hearth add")][2] / by[(size, "age -e")][2]
        cat = by[(size, "hearth cat")][2] / by[(size, "age -d")][2]
        print(f"{size:>6}  throughput ratio hearth/age: encrypt+store {add:.2f}, read+decrypt {cat:.2f}")


if __name__ == "__main__":
    main()
