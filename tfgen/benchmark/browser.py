"""Sampling speed of a TFLite export in the browser page against ai-edge-litert.

The same .tflite file and request (the default signature, seed 0) for batch
sizes 1 and 16: the page (web/, LiteRT.js's WebAssembly build in headless
Chromium, the time the page itself reports for one run) against the Python
runtime on this machine (`TFLiteModel`, the baseline). Each is a median over
`repeats` runs after one warm-up run.
"""

import statistics
from pathlib import Path

from tfgen.benchmark.timing import time_call
from tfgen.export import metadata as md
from tfgen.export import web_page, web_server
from tfgen.export.litert_runtime import TFLiteModel

COLUMNS = ["runtime", "batch", "ms", "images_per_s", "vs_litert_python"]


def _page_seconds(page, url, repeats):
    def check(status):
        if status == "error":
            raise RuntimeError(f"the page failed: {page.inner_text('#error')}")

    page.goto(url)
    check(web_page.wait_for(page, timeout=600_000))  # run=1: compiles for the batch size, a warm-up run
    times = []
    for _ in range(repeats):
        check(web_page.press_run(page, timeout=600_000))
        times.append(float(page.evaluate("document.body.dataset.seconds")))
    return statistics.median(times)


def browser_rows(export_dir, variant="float32", batches=(1, 16), repeats=5, num_threads=2):
    from playwright.sync_api import sync_playwright

    version_dir = web_server.find_exports(export_dir)[0]
    lite = TFLiteModel(Path(version_dir) / f"{variant}.tflite", num_threads=num_threads)
    name = lite.metadata["default_signature"]
    rows = []
    server, url = web_server.serve_in_thread([version_dir])
    try:
        with sync_playwright() as p:
            browser = web_page.launch(p)
            page = browser.new_page()
            for b in batches:
                inputs = md.generating_request(lite.metadata, name, b, seed=0)
                baseline = time_call(lambda inputs=inputs: lite.run(name, **inputs), warmup=1, repeats=repeats)
                seconds = _page_seconds(page, f"{url}?variant={variant}&num={b}&seed=0&run=1", repeats)
                for runtime, s in (
                    (f"ai-edge-litert (Python, {num_threads} threads)", baseline),
                    ("browser page", seconds),
                ):
                    rows.append(
                        {
                            "runtime": runtime,
                            "batch": b,
                            "ms": s * 1e3,
                            "images_per_s": b / s,
                            "vs_litert_python": baseline / s,
                        }
                    )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return rows, f"{lite.metadata['model']} ({name}, {variant}.tflite)"
