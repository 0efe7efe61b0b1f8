"""`python -m autograder check`: run each cell (setup, solutions, visible checks) in order, recording its
outcome and output."""
import contextlib, io, traceback


def run(ns, payload):
    out = []
    for cell in payload["cells"]:
        buf = io.StringIO()
        entry = {"id": cell["id"], "kind": cell["kind"], "ok": True, "error": "", "stdout": ""}
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(cell["source"], "<cell " + cell["id"] + ">", "exec"), ns)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            entry["ok"] = False
            entry["type"] = type(exc).__name__
            line = ""
            for frame in traceback.extract_tb(exc.__traceback__):
                if frame.filename.startswith("<cell "):
                    line = frame.filename[1:-1] + ", line " + str(frame.lineno)
            entry["error"] = (type(exc).__name__ + ": " + str(exc))[:1500] + (" (" + line + ")" if line else "")
        entry["stdout"] = buf.getvalue()[-2000:]
        out.append(entry)
    return out
