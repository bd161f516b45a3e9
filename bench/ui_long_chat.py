"""UI overhead over a long conversation: does the 50th answer cost the page what the first does?
Run on demand (not a test):

    .venv/bin/python bench/ui_long_chat.py                 # 50 turns, ~3 min on 2 cores
    .venv/bin/python bench/ui_long_chat.py --turns 20

The real app (packaged embedding model, on-disk Chroma, the bundled corpus in collection
``bench-ui`` of the project's data folder, the extractive generator) is served on a free loopback
port and driven by headless Chromium (/usr/bin/chromium) at 1400×900, one question after another
as a user types them. For each turn the page records, with ``performance.now()``:

* ``elapsed_ms``: from the Enter key to the finished answer being laid out and painted (two
  animation frames after it entered the conversation);
* ``pipeline_ms``: the assistant's own time (``Answer.timings["total"]``, written on the answer);
* ``overhead_ms = elapsed_ms - pipeline_ms``: what the UI adds (events, queue, rendering, transport,
  DOM update, layout);
* ``long_tasks_ms``: main-thread tasks over 50 ms during the turn (PerformanceObserver), summed,
  and the longest;
* the size of the conversation, the exchange-in-progress and the sources panel HTML.

The figures compared are the medians of the first and of the last five turns (single turns are
noisy on a shared 2-core machine). Results go to bench/results/ui_long_chat.json.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import RESULTS_DIR, machine_info, now_iso, settings_record, write_json  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
QUESTIONS = (
    "四川省已建成多少个省级现代服务业集聚区？",
    "How many provincial modern service industry clusters has Sichuan established?",
    "武侯區產業園區高質量發展大會是哪天召開的？",
    "成都生活性服务业增加值要达到多少？",
)
WINDOW = 5

INSTRUMENT = """
() => {
  window.bench = {turns: [], longTasks: [], t0: null};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.bench.longTasks.push([e.startTime, e.duration]);
  }).observe({type: 'longtask', buffered: true});
  document.querySelector('#question textarea').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) window.bench.t0 = performance.now();
  }, true);
  const conversation = document.querySelector('#conversation');
  let seen = 0;
  new MutationObserver(() => {
    const turns = conversation.querySelectorAll('.turn').length;
    if (turns <= seen) return;
    seen = turns;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const t1 = performance.now(), t0 = window.bench.t0;
      const answer = conversation.querySelector('.turn:last-child .msg-answer');
      const tasks = window.bench.longTasks.filter(([start]) => start >= t0 && start <= t1);
      window.bench.turns.push({
        elapsed_ms: t1 - t0,
        pipeline_ms: answer ? Number(answer.dataset.totalMs || 0) : null,
        long_tasks_ms: tasks.reduce((sum, [, d]) => sum + d, 0),
        longest_task_ms: tasks.reduce((most, [, d]) => Math.max(most, d), 0),
        conversation_chars: conversation.innerHTML.length,
        live_chars: document.querySelector('#live').innerHTML.length,
        sources_chars: document.querySelector('#sources').innerHTML.length,
        error: !answer,
      });
    }));
  }).observe(conversation, {childList: true, subtree: true});
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings):
    """Start the app on a free loopback port in a thread; returns (url, server)."""
    import uvicorn

    from ui.serve import ServeOptions, build_server

    options = ServeOptions(host="127.0.0.1", port=free_port())
    server = uvicorn.Server(
        uvicorn.Config(
            build_server(settings, options), host=options.host, port=options.port, log_level="warning"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return options.url, server


def run(turns: int) -> dict:
    from playwright.sync_api import sync_playwright

    from rag.pipeline import Assistant
    from rag.settings import load_settings

    settings = load_settings().with_overrides(collection="bench-ui", progress=False)
    Assistant.from_settings(settings).ingest()
    url, server = serve(settings)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_function(
                "document.querySelector('#kb-summary')?.innerText.includes('篇文档')", timeout=120_000
            )
            page.evaluate(INSTRUMENT)
            for turn in range(turns):
                page.fill("#question textarea", QUESTIONS[turn % len(QUESTIONS)])
                page.locator("#question textarea").press("Enter")
                page.wait_for_function(f"window.bench.turns.length >= {turn + 1}", timeout=300_000)
                print(f"turn {turn + 1}: {page.evaluate('window.bench.turns.at(-1)')}", file=sys.stderr)
            records = page.evaluate("window.bench.turns")
            browser.close()
    finally:
        server.should_exit = True
    for record in records:
        record["overhead_ms"] = record["elapsed_ms"] - (record["pipeline_ms"] or 0)
    return {"records": records, "settings": settings_record(settings)}


def summarise(records: list[dict]) -> dict:
    def median(key: str, part: list[dict]) -> float:
        return round(statistics.median(r[key] for r in part), 1)

    first, last = records[:WINDOW], records[-WINDOW:]
    keys = ("overhead_ms", "elapsed_ms", "pipeline_ms", "long_tasks_ms", "longest_task_ms")
    summary = {
        f"first_{WINDOW}_median": {k: median(k, first) for k in keys},
        f"last_{WINDOW}_median": {k: median(k, last) for k in keys},
        "turn_1": {k: round(records[0][k], 1) for k in keys},
        f"turn_{len(records)}": {k: round(records[-1][k], 1) for k in keys},
        "sizes_chars": {
            key: [records[0][key], records[-1][key]]
            for key in ("conversation_chars", "live_chars", "sources_chars")
        },
        "errors": sum(r["error"] for r in records),
    }
    summary["overhead_ratio_last_to_first"] = round(
        summary[f"last_{WINDOW}_median"]["overhead_ms"] / summary[f"first_{WINDOW}_median"]["overhead_ms"], 2
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "ui_long_chat.json")
    args = parser.parse_args()
    if args.turns < 2 * WINDOW:
        parser.error(f"--turns must be at least {2 * WINDOW}")
    machine = machine_info()
    result = run(args.turns)
    summary = summarise(result["records"])
    write_json(
        args.out,
        {
            "benchmark": "ui_long_chat",
            "date": now_iso(),
            "machine": machine,
            "turns": args.turns,
            "summary": summary,
            **result,
        },
    )
    first, last = summary[f"first_{WINDOW}_median"], summary[f"last_{WINDOW}_median"]
    print("| turns | UI overhead (median) | long tasks | pipeline |\n|---|---|---|---|")
    print(
        f"| 1–{WINDOW} | {first['overhead_ms']:.0f} ms | {first['long_tasks_ms']:.0f} ms | {first['pipeline_ms']:.0f} ms |"
    )
    print(
        f"| {args.turns - WINDOW + 1}–{args.turns} | {last['overhead_ms']:.0f} ms | {last['long_tasks_ms']:.0f} ms "
        f"| {last['pipeline_ms']:.0f} ms |"
    )
    print(f"overhead ratio last/first: {summary['overhead_ratio_last_to_first']} (written to {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
