"""Run a multi-worker job as N processes on this machine (127.0.0.1).

Each process gets the same command and its own TF_CONFIG with free ports,
the way a cluster manager would start one per host.
"""

import json
import os
import socket
import subprocess


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_configs(num_workers):
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(num_workers)]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(num_workers)]


def run(command, num_workers, cwd=None, timeout=600):
    """Runs `command` once per worker; returns [(returncode, stdout, stderr)] in worker order."""
    procs = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=dict(os.environ, TF_CONFIG=config),
        )
        for config in tf_configs(num_workers)
    ]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return results
