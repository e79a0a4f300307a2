"""The contract server both publish tests talk to: started per test module on loopback in
.venv-om (it validates every request with the OpenMetadata SDK's own models)."""

from __future__ import annotations

import socket
import subprocess

import pytest
from tests.catalog.openmetadata.contract import OM_PYTHON

from bzdata.catalog.openmetadata.backend import PUBLISHER


@pytest.fixture(scope="module")
def server():
    """The server's API root, e.g. http://127.0.0.1:<port>/api."""
    if not OM_PYTHON.exists():
        pytest.fail(".venv-om 不存在：先运行 make om-env")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [OM_PYTHON, str(PUBLISHER.with_name("contract_server.py")), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()  # printed once it is listening
    yield f"http://127.0.0.1:{port}/api"
    proc.terminate()
    proc.wait(timeout=10)
