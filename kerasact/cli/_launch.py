"""`kerasact train ... --workers N`: N local worker processes on free loopback ports.

Each worker runs the same `kerasact train` command with its own `TF_CONFIG`, exactly as each
node of a real cluster does (there the cluster manager sets `TF_CONFIG`). This process only
supervises: the chief's output is shown as it comes; a worker's is kept and shown if it fails.
When one process ends with an error, the others stop by themselves once the heartbeat misses
it (`tf_config.HEARTBEAT_TIMEOUT`); whatever is still running after a grace period is
SIGKILLed (TensorFlow ignores SIGTERM while it waits on the cluster), so nothing hangs.
TensorFlow-free to import.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

JOINED = "kerasact: joined the cluster"  # what a worker prints on stderr once the cluster has started
_GRACE = 30.0       # seconds the others get to stop on their own after one fails (> the heartbeat timeout)
_MARGIN = 60.0      # seconds beyond the join timeout before a worker that never said it joined is killed
_TAIL = 40          # lines of a worker's output kept to show when it fails


def free_ports(n: int) -> list[int]:
    """`n` distinct loopback ports, free now and outside the kernel's ephemeral range.

    Ports from `bind(("127.0.0.1", 0))` come from the ephemeral range, the one the kernel also
    hands to outgoing connections: between this pick and a worker's bind, another worker's gRPC
    client could take the port. Below that range only a listening server takes a port.

    Example:
        >>> len(set(free_ports(3)))
        3
    """
    low, _ = _ephemeral_range()
    rng = random.Random()
    candidates = rng.sample(range(10_000, low), min(200, low - 10_000)) if low > 10_100 else []
    chosen, sockets = [], []
    try:
        for port in candidates:
            if len(chosen) == n:
                break
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            sockets.append(s)
            chosen.append(port)
        while len(chosen) < n:  # no room below the range: let the kernel pick
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
            chosen.append(s.getsockname()[1])
        return chosen
    finally:
        for s in sockets:
            s.close()


def _ephemeral_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    try:
        low, high = (int(v) for v in open(path).read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999   # Linux's default; elsewhere the fallback above still finds ports


def tf_config(ports: Sequence[int], index: int) -> str:
    """The `TF_CONFIG` of worker `index` of a local cluster on `ports`."""
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def without_workers(argv: Sequence[str]) -> list[str]:
    """The command line minus its `--workers N` (each worker runs the rest), however argparse took
    it: `--workers 2`, `--workers=2`, or an abbreviation such as `--work 2`.

    Example:
        >>> without_workers(["train", "a.csv", "--work", "2", "--epochs", "3"])
        ['train', 'a.csv', '--epochs', '3']
    """
    out, skip = [], False
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if skip:
            skip = False
        elif len(flag) > 3 and "--workers".startswith(flag):   # the only train flag starting --wo
            skip = "=" not in arg
        else:
            out.append(arg)
    return out


class _Worker:
    """One child process, its output read by a thread: live for the chief, a tail for the others."""

    def __init__(self, index: int, argv: list[str], env: dict[str, str]) -> None:
        self.index, self.joined, self.tail = index, False, collections.deque(maxlen=_TAIL)
        self.error: str | None = None   # its last `kerasact: error:` line
        self.process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @property
    def name(self) -> str:
        return "the chief (worker 0)" if self.index == 0 else f"worker {self.index}"

    def _read(self) -> None:
        for line in self.process.stdout:
            self.joined = self.joined or line.startswith(JOINED)
            self.error = line.strip() if line.startswith("kerasact: error:") else self.error
            if self.index == 0:
                if not line.startswith(JOINED):
                    out = sys.stderr if line.startswith(("kerasact: error:", "kerasact: warning:")) else sys.stdout
                    out.write(line)
                    out.flush()
            else:
                self.tail.append(line.rstrip("\n"))

    def status(self) -> str:
        rc = self.process.returncode
        if rc is not None and rc < 0:
            return f"was killed by {signal.Signals(-rc).name}"
        return f"exited with status {rc}"


def launch(argv: Sequence[str], workers: int, join_timeout: float) -> int:
    """Run `kerasact <argv>` as `workers` local workers of one cluster; the chief's exit status.

    Returns:
        0 when every worker finished; else 1 (or the failed worker's usage status 2), after a
        line naming the worker that failed and showing its last output lines.

    Example:
        >>> launch(["train", "penguins.csv", "--target", "species"], 2, 120.0)  # doctest: +SKIP
    """
    ports = free_ports(workers)
    threads = max(1, (os.cpu_count() or 1) // workers)   # the cores shared, not oversubscribed
    command = [sys.executable, "-m", "kerasact", *without_workers(argv)]
    print(f"kerasact: {workers} local workers on 127.0.0.1 ports {', '.join(map(str, ports))} "
          f"({threads} intra-op thread(s) each); the chief (worker 0) writes the run directory", flush=True)
    procs = []
    # SIGTERM (timeout, kill, a scheduler) stops the workers too, as Ctrl-C does: none is orphaned.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        for index in range(workers):
            env = dict(os.environ, TF_CONFIG=tf_config(ports, index))
            env.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
            env.setdefault("TF_NUM_INTEROP_THREADS", "1")
            procs.append(_Worker(index, command, env))
        return _supervise(procs, join_timeout)
    except KeyboardInterrupt:
        _kill(procs)
        print("kerasact: stopped every worker; each kept its last completed epoch: rerun with --run-dir and the "
              "run directory printed above to resume.", file=sys.stderr, flush=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _supervise(procs: list[_Worker], join_timeout: float) -> int:
    started, failed, failed_at = time.monotonic(), None, 0.0
    try:
        while [p.process.poll() for p in procs].count(None):  # polls every one, each time
            now = time.monotonic()
            if failed is None:
                failed, failed_at = _first_failure(procs), now
            late = [p for p in procs if not p.joined and p.process.returncode is None]
            if failed is None and late and now - started > join_timeout + _MARGIN:
                _kill(procs)
                names = ", ".join(p.name for p in late)
                print(f"kerasact: error: {names} did not join the cluster within {join_timeout + _MARGIN:g} s; "
                      f"stopped every worker.", file=sys.stderr, flush=True)
                return 1
            if failed is not None and now - failed_at > _GRACE:
                _kill(procs)
            time.sleep(0.2)
    except KeyboardInterrupt:
        _kill(procs)
        raise
    for p in procs:
        p.reader.join(timeout=5)
    failed = failed or _first_failure(procs)
    if failed is None:
        return 0
    chief = procs[0]
    if failed is not chief and failed.process.returncode > 0 and failed.error is not None and \
            failed.error == chief.error:
        failed = chief   # every worker said the same (a usage error): the chief's line is the one shown
    if failed is chief and chief.process.returncode > 0:
        return failed.process.returncode   # the chief said what went wrong (and how to resume) itself
    if failed.index != 0:
        shown = "\n".join(f"  [{failed.name}] {line}" for line in failed.tail if line.strip())
        print(f"kerasact: {failed.name} {failed.status()}; its last lines:\n{shown}", file=sys.stderr, flush=True)
    said = next((line for p in procs if p is not failed for line in p.tail if line.startswith("kerasact: error:")),
                None)   # a worker's own words, with the run directory to resume, when the chief cannot speak
    if said is not None and failed.index == 0:
        print(said, file=sys.stderr, flush=True)
    print(f"kerasact: error: {failed.name} {failed.status()}, so the cluster stopped. Rerun the same command "
          f"(with the --run-dir named above) to resume from the last completed epoch.", file=sys.stderr,
          flush=True)
    return 2 if failed.process.returncode == 2 else 1


def _first_failure(procs: list[_Worker]) -> _Worker | None:
    """The worker that failed; of several seen at once, one a signal killed (the others followed it)."""
    exited = [p for p in procs if p.process.returncode not in (None, 0)]
    return min(exited, key=lambda p: (p.process.returncode >= 0, p.index), default=None)


def _kill(procs: list[_Worker]) -> None:
    for p in procs:
        if p.process.poll() is None:
            p.process.kill()   # SIGKILL: TensorFlow ignores SIGTERM while it waits on the cluster
    for p in procs:
        p.process.wait(timeout=30)
