"""Finding and loading ``libtcpEvent.so`` / ``libudpEvent.so``.

Candidates, in order: ``$EBPF_INTERCEPTOR_LIB_DIR/<name>`` (when the
variable is set and not empty), ``/opt/RealTimeKql/lib/<name>`` (where
``./run.sh install`` and the original put them), then the bare name, which
the dynamic linker looks up in ``LD_LIBRARY_PATH``, its cache and the
default directories. The first that loads wins; when none does, the error
lists every candidate with its reason.

Each library is loaded once per process and kept (the libraries are linked
with ``-z nodelete`` and hold process-wide state anyway).
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from . import abi
from .errors import LibraryNotFoundError

#: The variable naming a directory searched before the others.
LIB_DIR_ENV = "EBPF_INTERCEPTOR_LIB_DIR"
#: Where the libraries are installed for monitors such as RealTimeKql.
INSTALL_DIR = "/opt/RealTimeKql/lib"


@dataclass(frozen=True)
class LoadedLibrary:
    """A library loaded and declared: ``handle`` is the ctypes handle and
    ``path`` the candidate that loaded (a bare name if the linker found it)."""

    handle: ctypes.CDLL
    path: str


_loaded: Dict[str, LoadedLibrary] = {}
_loading = threading.Lock()


def candidates(name: str) -> List[str]:
    """The paths tried for library file ``name``, in order."""
    paths = []
    lib_dir = os.environ.get(LIB_DIR_ENV, "")
    if lib_dir:
        paths.append(os.path.join(lib_dir, name))
    paths.append(os.path.join(INSTALL_DIR, name))
    # A bare name: dlopen() searches the linker's path.
    paths.append(name)
    return paths


def load(name: str, prefix: str) -> LoadedLibrary:
    """Loads library file ``name`` (once per process) and declares its
    functions (``prefix``: ``"tcpEvent"`` or ``"udpEvent"``).

    Raises LibraryNotFoundError listing every candidate and why it failed.
    """
    with _loading:
        loaded = _loaded.get(name)
        if loaded is None:
            loaded = _load_first(name, prefix)
            _loaded[name] = loaded
        return loaded


def _load_first(name: str, prefix: str) -> LoadedLibrary:
    tried = []
    for path in candidates(name):
        reason = _unloadable(path)
        if reason is None:
            try:
                handle = ctypes.CDLL(path)
                abi.declare(handle, prefix)
                return LoadedLibrary(handle, path)
            except (OSError, AttributeError) as error:
                # OSError: dlopen() failed; AttributeError: a symbol is
                # missing (an older or foreign library of the same name).
                reason = str(error)
        label = path if os.sep in path else f"{path} (the dynamic linker's search path)"
        tried.append(f"{label}: {reason}")
    raise LibraryNotFoundError(
        f"cannot load {name}; tried, in order: "
        + "; ".join(tried)
        + f". Install it with ./run.sh install, or set {LIB_DIR_ENV} to the directory holding it"
    )


def _unloadable(path: str) -> Optional[str]:
    """Why a path with a directory cannot be the library, or None to try
    dlopen() (which says why for bare names)."""
    if os.sep not in path:
        return None
    if not os.path.exists(path):
        return "no such file"
    return None
