#!/usr/bin/env python3
"""Measures how long a function binary takes from process start to ready: the moment it asks
the Lambda Runtime API for its first event. A fake Runtime API on loopback answers nothing else.
Also prints the peak resident memory at that point (VmHWM, Linux).

Usage: infra/startup.py target/lambda/<name>/bootstrap [runs]
"""
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time

ready = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            ready.set()
            # Hold the request: the function waits here for an event that never comes.
            time.sleep(5)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(
        os.environ,
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
        AWS_LAMBDA_FUNCTION_NAME="startup",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_LAMBDA_FUNCTION_VERSION="1",
        AWS_LAMBDA_LOG_STREAM_NAME="startup",
        AWS_LAMBDA_LOG_GROUP_NAME="startup",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="startup",
        AWS_SECRET_ACCESS_KEY="startup",
        TABLE_NAME="startup",
        COMMISSION_QUEUE_URL="http://127.0.0.1:9/commission",
        POSTBACK_QUEUE_URL="http://127.0.0.1:9/postback",
    )
    times = []
    peaks = []
    for _ in range(runs):
        ready.clear()
        start = time.perf_counter()
        process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not ready.wait(10):
            process.kill()
            sys.exit(f"{binary} never asked for an event")
        times.append((time.perf_counter() - start) * 1000)
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        process.kill()
        process.wait()
    print(f"{binary}: start to ready over {runs} runs: median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f} ms, max {max(times):.1f} ms; peak memory {max(peaks):.1f} MiB")


if __name__ == "__main__":
    main()
