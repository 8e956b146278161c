"""archspec serve [SPEC]: a local page where diagnostics, shapes and the diagram update as you type."""
from __future__ import annotations

import ipaddress
import sys

from . import int_in


def register(sub):
    p = sub.add_parser("serve", help="a local editor page: diagnostics, shapes and diagram as you type",
                       description="Serve one page on this machine: an editor whose diagnostics, shape table and "
                                   "diagram update as you type. With SPEC (a file or a folder of specs) Save writes "
                                   "the file back; without one the page opens the built-in examples.")
    p.add_argument("spec", nargs="?", metavar="SPEC", help="a spec file or a folder of them (default: the examples)")
    p.add_argument("--port", type=int_in(0, 65535), default=8765, help="port (default: 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1, this machine only; another one exposes the specs)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=run)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args) -> int:
    # the serve page's modules (http.server, the API) load only for archspec serve
    from ..serve import make_server
    from ..serve.documents import DocumentError

    try:
        srv = make_server(args.spec, args.host, args.port)
    except DocumentError as exc:
        print(f"archspec serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # port in use, an address this machine does not have
        print(f"archspec serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not _loopback(args.host):
        print(f"archspec serve: warning: listening on {args.host}, not only this machine: anyone who can reach it "
              "can read the specs" + (" and save over them" if args.spec else ""), file=sys.stderr)
    print(f"archspec serve: {srv.url} (Ctrl+C stops)", flush=True)
    if args.open:
        import webbrowser  # start-up: webbrowser imports subprocess (about 5 ms); every CLI start loads this module

        webbrowser.open(srv.url)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        print("archspec serve: stopped", file=sys.stderr)
    finally:
        srv.server_close()
    return 0
