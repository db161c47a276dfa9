"""In-sandbox, trusted side: what a finished run sent back, turned into its test result (shipped with
``harness.py``, executed into the same namespace; stdlib only, never imports cskit).

Each function fills ``res`` (``status``, ``etype``, ``detail``, ``result``) from the bytes a run left on its
result descriptor: the stdio wrapper's status line, a call-kind outcome frame, the driver's result frame,
or the in-process fallback's frame. Everything that comes from a candidate's process is its say-so and is
decoded as plain data only (``codec.decode``); a malformed call-kind frame is ``harness_error``, a missing
one is the candidate's early exit. Nothing here raises: a broken input is that test's verdict.
"""


def stdio_outcome(raw, res):
    """The stdio wrapper's status line (``ok`` / ``error ETYPE``); anything else means the program did not
    reach the end of the wrapper (``exited``)."""
    line = raw.decode("utf-8", "replace").split("\n")[0].split(" ")
    if line[0] in ("ok", "error"):
        res["status"], res["etype"] = line[0], (line[1] if len(line) > 1 else "")[:80]
    else:
        res["status"] = "exited"


def call_outcome(raw, res, max_bytes):
    """A call-kind run's outcome frame; the return value becomes LiveCodeBench's JSON (tuples as lists)
    for the host to compare."""
    import json

    if not raw:
        res.update(status="error", etype="EarlyExit", detail="the candidate's process ended before answering")
        return
    try:
        n = int.from_bytes(raw[:4], "big")
        if len(raw) != 4 + n:
            raise ValueError("a cut or trailing frame")
        msg = decode(raw[4:], max_bytes + 4)  # noqa: F821 - codec.py
        if type(msg) is not dict or type(msg.get("t")) is not str:
            raise ValueError("not a message")
    except BaseException as e:
        res.update(status="harness_error", etype="ProtocolError",
                   detail="malformed result from the candidate: %s" % str(e)[:200])
        return
    t = msg["t"]
    if t == "ret" and "v" in msg:
        try:
            res.update(status="ok", etype="", result=json.dumps(norm(msg["v"])))  # noqa: F821 - driver.py
        except BaseException as e:
            res.update(status="error", etype=error_name(e), detail="the return value is not JSON data")  # noqa: F821
    elif t in ("exc", "load_error"):
        etype = msg.get("etype")
        res.update(status="error", etype="".join(c for c in etype if c.isalnum() or c in "._")[:80]
                   if type(etype) is str else "Exception")
    elif t == "opaque":
        res.update(status="error", etype="TypeError", detail="the return value is not plain data")
    elif t == "bad_test":
        res.update(status="bad_test", etype="BadTest", detail="test input is not one JSON value per line")
    else:
        res.update(status="harness_error", etype="ProtocolError", detail="unexpected result from the candidate")


def driver_outcome(raw, res):
    """The driver's result frame (trusted: the driver is the harness's own process)."""
    try:
        if len(raw) < 4 or len(raw) < 4 + int.from_bytes(raw[:4], "big"):
            raise ValueError("no result from the driver")
        out = JSON_LOADS(raw[4:4 + int.from_bytes(raw[:4], "big")].decode())  # noqa: F821 - codec.py
        res.update(status=out["status"], etype=out["etype"], detail=out["detail"])
        if out.get("result") is not None:
            res["result"] = out["result"]
        if out.get("fallback"):
            res["fallback"] = out["fallback"]
    except BaseException as e:
        res.update(status="harness_error", etype="DriverError", detail="the test driver failed: %s" % e)


def inproc_outcome(raw, res):
    """The in-process fallback's frame (the candidate's say-so: the flagged fallback can be forged)."""
    try:
        msg = decode(raw[4:]) if len(raw) >= 4 else None  # noqa: F821 - codec.py
        if type(msg) is not dict or msg.get("status") not in ("ok", "error"):
            res["status"] = "exited"
            return
        res["status"] = msg["status"]
        res["etype"] = str(msg.get("etype", ""))[:80]
    except BaseException:
        res["status"] = "exited"
