"""The Python peer for the HTTP benchmark: `requests` with one Session per thread (a Session
is not thread-safe), N threads sharing the work. Prints one JSON object like slipway-bench."""
import json
import resource
import sys
import threading
import time

import requests


def main() -> None:
    url, total, concurrency, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 200
    lock = threading.Lock()
    state = {"left": 0, "bytes": 0}
    local = threading.local()

    def worker() -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        while True:
            with lock:
                if state["left"] == 0:
                    return
                state["left"] -= 1
            response = session.get(url)
            response.raise_for_status()
            with lock:
                state["bytes"] += len(response.content)

    def run(n: int) -> float:
        state["left"] = n
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - start

    run(warmup)
    state["bytes"] = 0
    seconds = run(total)
    print(json.dumps({
        "client": "python-requests", "requests": total, "concurrency": concurrency, "seconds": seconds,
        "requests_per_second": total / seconds, "bytes": state["bytes"],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
