"""Load benchmark (issue 10): 20 API clients and 10 UI clients for 2 minutes against `rag api` and
`rag serve` on loopback, both over one data folder, while another process keeps ingesting into it.
Writes errors, latency p50/p95 and whether answers still carry citations to bench/results/load.json.

    .venv/bin/python bench/load.py [--seconds 120] [--api-clients 20] [--ui-clients 10]

Bounded: loopback only, a fixed duration, at most --max-requests per client. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine_info, now_iso, write_json  # noqa: E402
from rag.settings import BUNDLED_CORPUS, PROJECT_ROOT, Settings  # noqa: E402

QUESTIONS = [
    "四川省成功创建了多少个省级现代服务业集聚区？",
    "武侯區產業園區高質量發展大會是哪天召開的？",
    "How many provincial modern service industry clusters has Sichuan established?",
    "成都生活性服务业增加值要达到多少？",
    "推动成渝地区双城经济圈建设要加强什么？",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.cited = self.abstained = self.uncited = 0

    def record(self, seconds: float, error: str | None, cited: bool | None) -> None:
        with self.lock:
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1
                return
            self.latencies.append(seconds)
            if cited is None:
                self.abstained += 1
            elif cited:
                self.cited += 1
            else:
                self.uncited += 1

    def summary(self) -> dict:
        answered = len(self.latencies)
        return {
            "requests": answered + sum(self.errors.values()),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "answered": answered,
            "with_citations": self.cited,
            "abstained": self.abstained,
            "answered_without_citations": self.uncited,
            "latency_p50_s": percentile(self.latencies, 0.5),
            "latency_p95_s": percentile(self.latencies, 0.95),
            "latency_max_s": round(max(self.latencies), 3) if self.latencies else None,
        }


def api_client(url: str, stop: float, tally: Tally, seed: int, max_requests: int) -> None:
    rng = random.Random(seed)
    for _ in range(max_requests):
        if time.monotonic() >= stop:
            return
        body = json.dumps(
            {"model": "tianfu-rag", "messages": [{"role": "user", "content": rng.choice(QUESTIONS)}]}
        )
        request = urllib.request.Request(
            url + "v1/chat/completions", data=body.encode(), headers={"Content-Type": "application/json"}
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                data = json.loads(response.read())
            abstained = data["x_rag"]["abstained"]
            tally.record(time.monotonic() - started, None, None if abstained else bool(data["citations"]))
        except urllib.error.HTTPError as exc:
            tally.record(0, f"HTTP {exc.code}", None)
        except Exception as exc:  # anything else is an error of the run
            tally.record(0, type(exc).__name__, None)


def ui_client(url: str, stop: float, tally: Tally, seed: int, max_requests: int, collection: str) -> None:
    from gradio_client import Client

    rng = random.Random(seed)
    client = Client(url, verbose=False, download_files=False)
    for _ in range(max_requests):
        if time.monotonic() >= stop:
            return
        started = time.monotonic()
        try:
            # the UI's /ask: (the answer's HTML, its sources' HTML), as ui.handlers.Handlers.ask_api
            answer, _sources = client.predict(
                rng.choice(QUESTIONS), collection, 5, "hybrid", [], "", api_name="/ask"
            )
            if "msg-error" in answer:
                tally.record(0, "answer error message", None)
                continue
            abstained = 'class="msg-answer abstained"' in answer
            tally.record(time.monotonic() - started, None, None if abstained else 'class="cite"' in answer)
        except Exception as exc:  # anything else is an error of the run
            tally.record(0, type(exc).__name__, None)


def ingester(env: dict, folder: Path, stop: float, log: list) -> None:
    """Rewrite and re-ingest a folder of documents, again and again, until the end."""
    base = [p.read_text(encoding="utf-8") for p in sorted(BUNDLED_CORPUS.glob("*.txt"))]
    round_ = 0
    while time.monotonic() < stop:
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(6):
            sentences = base[i % len(base)].split("。")
            random.Random(round_ * 10 + i).shuffle(sentences)
            text = f"压力测试文件{i}（第{round_}轮）\n\n" + "。".join(sentences[:12]) + "。"
            (folder / f"load-{i}.txt").write_text(text, encoding="utf-8")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "rag", "ingest", str(folder)], env=env, capture_output=True, text=True
        )
        log.append(
            {
                "round": round_,
                "seconds": round(time.monotonic() - started, 1),
                "returncode": result.returncode,
                "report": result.stdout.strip().splitlines()[:1],
                "stderr": result.stderr.strip()[-300:] if result.returncode else "",
            }
        )
        round_ += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--api-clients", type=int, default=20)
    parser.add_argument("--ui-clients", type=int, default=10)
    parser.add_argument("--max-requests", type=int, default=500, help="per client")
    parser.add_argument("--api-port", type=int, default=0, help="default: a free loopback port")
    parser.add_argument("--ui-port", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()

    data = PROJECT_ROOT / ".rag" / "bench" / "load"
    (data / "models").mkdir(parents=True, exist_ok=True)
    for folder in Settings().models_dir.glob("*"):
        link = data / "models" / folder.name
        if (folder / "modules.json").is_file() and not link.exists():
            link.symlink_to(folder, target_is_directory=True)
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_PROGRESS": "false"}
    env.pop("RAG_CONFIG", None)
    subprocess.run([sys.executable, "-m", "rag", "ingest", "--prune"], env=env, check=True, cwd=PROJECT_ROOT)
    shutil.rmtree(data / "live", ignore_errors=True)

    api_port, ui_port = args.api_port or free_port(), args.ui_port or free_port()
    logs = {name: open(data / f"{name}.log", "w", encoding="utf-8") for name in ("api", "ui")}  # noqa: SIM115
    api = subprocess.Popen(
        [sys.executable, "-m", "rag", "api", "--host", "127.0.0.1", "--port", str(api_port)],
        env=env,
        stdout=logs["api"],
        stderr=subprocess.STDOUT,
    )
    ui = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--host", "127.0.0.1", "--port", str(ui_port)],
        env=env,
        stdout=logs["ui"],
        stderr=subprocess.STDOUT,
    )
    api_url, ui_url = f"http://127.0.0.1:{api_port}/", f"http://127.0.0.1:{ui_port}/"
    try:
        wait_healthy(api_url, api)
        wait_healthy(ui_url, ui)
        load_before = os.getloadavg()
        stop = time.monotonic() + args.seconds
        api_tally, ui_tally, ingests = Tally(), Tally(), []
        threads = [threading.Thread(target=ingester, args=(env, data / "live", stop, ingests))]
        threads += [
            threading.Thread(target=api_client, args=(api_url, stop, api_tally, i, args.max_requests))
            for i in range(args.api_clients)
        ]
        threads += [
            threading.Thread(
                target=ui_client, args=(ui_url, stop, ui_tally, 100 + i, args.max_requests, "sichuan")
            )
            for i in range(args.ui_clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        with urllib.request.urlopen(api_url + "health", timeout=30) as response:
            final_chunks = json.loads(response.read())["chunks"]
    finally:
        for process in (api, ui):
            process.terminate()
            process.wait(timeout=30)
    result = {
        "benchmark": "load",
        "date": now_iso(),
        "machine": machine_info(),
        "note": "shared 2-core machine, other engineers' jobs running: absolute latencies are noisy",
        "server_logs": [str(data / "api.log"), str(data / "ui.log")],
        "load_average_before": [round(x, 2) for x in load_before],
        "seconds": round(elapsed, 1),
        "api": {"clients": args.api_clients, **api_tally.summary()},
        "ui": {"clients": args.ui_clients, **ui_tally.summary()},
        "ingest": {
            "rounds": len(ingests),
            "failed_rounds": sum(1 for r in ingests if r["returncode"]),
            "log": ingests,
            "chunks_at_end": final_chunks,
        },
    }
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("seconds", "api", "ui")}, ensure_ascii=False, indent=2))
    print(json.dumps({k: v for k, v in result["ingest"].items() if k != "log"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
