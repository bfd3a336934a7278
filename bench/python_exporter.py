#!/usr/bin/python3
"""The Python contender of bench/run.sh: the smallest exporter Debian's python3-prometheus-client
makes, shaped like vcsa_exporter: `start_http_server` and one custom collector that makes one
HTTPS call to the bench's nginx on every scrape (urllib, a new TLS connection each time, the
throwaway CA trusted) and turns the answer into a gauge.

  /usr/bin/python3 bench/python_exporter.py PORT URL CA_FILE

Listens on 127.0.0.1:PORT only; runs until SIGTERM. The default registry keeps its process,
platform and GC collectors, as any exporter built on the library does.
"""
import json
import ssl
import sys
import threading
import urllib.request

from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily


class RestoreJobCollector:
    """One GET of the restore job per scrape: its progress, and whether the call worked."""

    def __init__(self, url, ca_file):
        self.url = url
        self.context = ssl.create_default_context(cafile=ca_file)

    def describe(self):
        # Without describe(), registering would call collect() (and the upstream) once up front.
        return [
            GaugeMetricFamily("bench_up", "Whether the upstream call of this scrape worked."),
            GaugeMetricFamily("bench_restore_job_progress_ratio", "Progress of the restore job, 0 to 1."),
        ]

    def collect(self):
        request = urllib.request.Request(self.url, headers={"vmware-api-session-id": "bench-session-id"})
        up = 0.0
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.context) as response:
                job = json.load(response)
            yield GaugeMetricFamily("bench_restore_job_progress_ratio", "Progress of the restore job, 0 to 1.",
                                    value=float(job["progress"]) / 100.0)
            up = 1.0
        except (OSError, ValueError, KeyError, TypeError):
            pass
        yield GaugeMetricFamily("bench_up", "Whether the upstream call of this scrape worked.", value=up)


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    port, url, ca_file = int(argv[1]), argv[2], argv[3]
    REGISTRY.register(RestoreJobCollector(url, ca_file))
    start_http_server(port, addr="127.0.0.1")
    threading.Event().wait()  # the server runs in a daemon thread; SIGTERM ends the process
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
