"""The process's Prometheus instruments, made once however many threads ask first."""

import json
import subprocess
import sys

# A fresh interpreter: this process's registry already holds the instruments.
FIRST_REQUESTS = """
import json, sys, threading
from queue_service import metrics

sys.setswitchinterval(1e-6)  # threads take turns as often as they can: the race shows
threads = int(sys.argv[1])
together = threading.Barrier(threads)
made, failed = [], []

def first_request():
    together.wait()
    try:
        made.append(metrics.instruments())
    except Exception as error:
        failed.append(repr(error))

workers = [threading.Thread(target=first_request) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps({"failed": failed, "distinct": len({id(m) for m in made})}))
"""


def test_a_workers_first_requests_on_many_threads_make_the_instruments_once():
    for _ in range(3):  # the race needs threads to meet inside the first call
        run = subprocess.run(
            [sys.executable, "-c", FIRST_REQUESTS, "32"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outcome = json.loads(run.stdout)
        assert outcome == {"failed": [], "distinct": 1}


def test_made_up_methods_are_counted_as_other_not_as_series_of_their_own(client):
    for made_up in ("XFOO1", "XFOO2", "XFOO3"):
        assert client.open("/healthz", method=made_up).status_code == 405

    text = client.get("/metrics").get_data(as_text=True)

    assert "XFOO" not in text
    assert 'method="other"' in text
