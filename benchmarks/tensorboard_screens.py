"""Show a TensorBoard log directory as a user sees it: a screenshot and the error texts of each dashboard tab.

    .venv/bin/python benchmarks/tensorboard_screens.py LOGDIR [--out DIR] [--port N] [--wait S]

Starts TensorBoard from this Python environment on localhost, takes the facts (runs, tags, HParams columns and
rows, graphs per run) from its HTTP APIs, opens each tab in headless Chromium (`apt-get install -y chromium`),
saves OUT/<tab>.png and OUT/<tab>.txt (its visible text; a tab is done once that text is the same for 3 s, or
after --wait s) and looks there for error texts such as "Malformed GraphDef". Chromium is driven over a DevTools
pipe, not with --dump-dom, which leaves out the shadow roots the Polymer dashboards draw in. Exit status: 0 when
no tab shows an error text, 1 when one does, 2 when Chromium is missing or TensorBoard does not start.
"""

import argparse
import base64
import fcntl
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

TABS = ("timeseries", "scalars", "hparams", "graphs", "histograms", "images", "text")
ERROR = re.compile(r"Graph visualization failed|Malformed GraphDef|No dashboards are active|\bError\b|\bfailed\b")
NO_DATA = re.compile(r"No [\w ]+ data was found")
metric = lambda info: ".".join(part for part in (info["name"].get("group"), info["name"]["tag"]) if part)
SHOWN = 5  # TensorBoard 2.21's HParams table ticks its first 5 hparams (differing first) and first 5 metrics
VISIBLE_TEXT = """(() => {  // the page's visible text, shadow roots included
  const parts = [];
  const visit = (root) => root.childNodes.forEach((node) => {
    const text = node.nodeType === Node.TEXT_NODE && node.textContent.trim();
    if (text && node.parentElement?.checkVisibility({checkVisibilityCSS: true})) parts.push(text);
    if (node.nodeType !== Node.ELEMENT_NODE || ["STYLE", "SCRIPT"].includes(node.tagName)) return;
    if (node.shadowRoot) visit(node.shadowRoot);  // a shadow host's own children are visited too
    visit(node);
  });
  visit(document);
  return parts.join("\\n");
})()"""


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (it reads fd 3, writes fd 4)."""

    def __init__(self, profile: str) -> None:
        to_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()

        def remap() -> None:  # in the child, before exec: put the pipe ends where Chromium looks for them
            ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5) for fd in (to_chrome, from_chrome)]  # off 3 and 4
            os.dup2(ends[0], 3)
            os.dup2(ends[1], 4)

        args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,1000",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=remap, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_chrome, from_chrome):
            os.close(fd)
        self._buffer, self._id = b"", 0

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        os.write(self._out, json.dumps(message | ({"sessionId": session} if session else {})).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"Chromium {method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise RuntimeError(f"Chromium did not answer {method} within {timeout:g} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buffer += chunk

    def visit(self, url: str, png: Path, wait: float) -> str:
        """Open `url`, wait until its visible text settles (at most `wait` s), save a screenshot, return the text."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1600, "height": 1000, "deviceScaleFactor": 1,
                                                         "mobile": False}, session)
        self.call("Page.navigate", {"url": url}, session)
        text, stable, deadline = "", 0, time.monotonic() + wait
        while stable < 3 and time.monotonic() < deadline:
            time.sleep(1)
            reply = self.call("Runtime.evaluate", {"expression": VISIBLE_TEXT, "returnByValue": True}, session)
            now = reply["result"].get("value", "")
            stable, text = (stable + 1 if now and now == text else 0), now
        png.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]))
        self.call("Target.closeTarget", {"targetId": target})
        return text


def api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """GET (or POST `body` as JSON to) TensorBoard's `path` and decode the JSON reply."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


def wait_for_tensorboard(base: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    """Return once TensorBoard answers and its run list has stopped growing."""
    deadline, runs, same = time.monotonic() + timeout, None, 0
    while same < 2 and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"TensorBoard exited with status {proc.returncode}; see {log}")
        try:
            now = api(base, "data/runs")
            same, runs = (same + 1 if now and now == runs else 0), now
        except OSError:
            pass
        time.sleep(1)
    if runs is None:
        raise RuntimeError(f"TensorBoard did not answer at {base} within {timeout:g} s; see {log}")


def hparams_facts(base: str) -> list[str]:
    experiment = api(base, "data/plugin/hparams/experiment", {"experimentName": ""})
    hparams = sorted(experiment.get("hparamInfos", []), key=lambda info: not info.get("differs"))
    metrics = experiment.get("metricInfos", [])
    columns = [{"hparam": info["name"], "includeInResult": True} for info in hparams]
    columns += [{"metric": info["name"], "includeInResult": True} for info in metrics]
    groups = api(base, "data/plugin/hparams/session_groups",
                 {"experimentName": "", "allowedStatuses": [f"STATUS_{s}" for s in ("UNKNOWN", "SUCCESS", "FAILURE",
                  "RUNNING")], "colParams": columns, "startIndex": 0, "sliceSize": 1000})["sessionGroups"]
    tick = lambda i: "[x]" if i < SHOWN else "[-]"  # ticked or not in the table at first
    lines = [f"{len(groups)} session rows: " + ", ".join(group["name"] for group in groups),
             "hparams: " + " ".join(f"{tick(i)}{info['name']}" for i, info in enumerate(hparams)),
             "metrics: " + " ".join(f"{tick(i)}{metric(info)}" for i, info in enumerate(metrics))]
    for group in groups:
        values = {metric(value): value["value"] for value in group.get("metricValues", [])}
        shown = [f"{metric(info)}={values[metric(info)]:.4g}" for info in metrics[:SHOWN] if metric(info) in values]
        lines.append(f"  {group['name']}: {', '.join(shown) or 'no value in the ticked metric columns'}")
    return lines


def graphs_facts(base: str) -> list[str]:
    info = api(base, "data/plugin/graphs/info")
    lines = []
    for run in sorted(info):
        kinds = [f"{tag}({', '.join(k for k in ('op_graph', 'conceptual_graph', 'profile') if about[k]) or 'none'})"
                 for tag, about in sorted(info[run]["tags"].items())]
        lines.append(f"{run}: run_graph={info[run]['run_graph']} tags: {' '.join(kinds) or '-'}")
    if info:  # the dashboard opens on its first run and tag with "Op graph" ticked, whatever that tag holds
        first = info[min(info)]
        if not first["run_graph"] and not any(about["op_graph"] for about in first["tags"].values()):
            lines.append(f"opens on {min(info)} as 'Op graph', which it lacks: pick 'Conceptual graph' to see it")
    return lines or ["no graphs"]


def tag_facts(base: str, plugin: str) -> list[str]:
    found = api(base, f"data/plugin/{plugin}/tags")
    groups = Counter(name.split("/")[0] for name in {tag for run_tags in found.values() for tag in run_tags})
    return [f"{sum(groups.values())} tags in {len(found)} runs, by group: " +
            ", ".join(f"{group}({n})" for group, n in sorted(groups.items()))]


def gather_facts(base: str) -> dict[str, list[str]]:
    """Per tab, lines of facts from TensorBoard's HTTP APIs."""
    enabled = [name for name, plugin in api(base, "data/plugins_listing").items() if plugin.get("enabled")]
    makers = {"timeseries": lambda: [f"{len(api(base, 'data/runs'))} runs; active: {', '.join(enabled)}"],
              "hparams": lambda: hparams_facts(base), "graphs": lambda: graphs_facts(base)}
    return {tab: makers.get(tab, lambda: tag_facts(base, tab))() if tab in enabled or tab == "timeseries"
            else ["plugin inactive: the log directory holds no data for it"] for tab in TABS}


def status(text: str) -> tuple[str, list[str]]:
    """The tab's state (ok, ERROR, no data, blank) and the error texts found in its visible `text`."""
    errors = sorted(set(ERROR.findall(text)))
    if errors:
        return "ERROR", [f"error text: {'; '.join(errors)}"]
    return ("no data" if NO_DATA.search(text) else "ok" if text else "blank"), []


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("tensorboard_screens"), help="screenshots and texts go here")
    parser.add_argument("--port", type=int, default=0, help="TensorBoard's port (default: a free one)")
    parser.add_argument("--wait", type=float, default=30.0, help="most seconds a tab may take to render")
    args = parser.parse_args(argv)
    if shutil.which("chromium") is None:
        print("chromium is not on PATH: install it with `apt-get install -y chromium`", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with socket.create_server(("localhost", 0)) as probe:  # a free port, unless --port names one
        port = args.port or probe.getsockname()[1]
    base, log_path, rows = f"http://localhost:{port}/", args.out / "tensorboard.log", []
    try:
        with ExitStack() as stack:
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="tbscreens-"))
            log = stack.enter_context(log_path.open("w"))
            command = [sys.executable, "-m", "tensorboard.main", f"--logdir={args.logdir}", f"--port={port}",
                       "--host=localhost"]
            tensorboard = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(stop, tensorboard)
            wait_for_tensorboard(base, tensorboard, log_path)
            facts = gather_facts(base)
            browser = Browser(profile)
            stack.callback(stop, browser.proc)
            for tab in TABS:
                text = browser.visit(f"{base}#{tab}", args.out / f"{tab}.png", args.wait)
                (args.out / f"{tab}.txt").write_text(text + "\n")
                state, errors = status(text)
                rows.append((tab, state, errors + facts[tab]))
    except (RuntimeError, OSError) as error:  # OSError: TensorBoard's HTTP API failed
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(f"TensorBoard on {args.logdir}; screenshots and visible texts in {args.out}/")
    print(f"{'tab':<11} {'status':<8} facts")
    for tab, state, lines in rows:
        wrapped = [part for line in lines for part in textwrap.wrap(line, 100, subsequent_indent="    ")]
        print("\n".join(f"{tab if i == 0 else '':<11} {state if i == 0 else '':<8} {part}"
                        for i, part in enumerate(wrapped)))
    return 1 if any(state == "ERROR" for _, state, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
