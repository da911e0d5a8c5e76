"""A directory laid out and updated exactly as kubelet does for Secret and ConfigMap volumes.

kubelet's atomic writer (``pkg/volume/util/atomic_writer.go``) keeps a volume like this::

    <dir>/tls.crt -> ..data/tls.crt               (one relative symlink per key, never rewritten)
    <dir>/..data  -> ..2026_12_01_10_00_00.123456789   (relative symlink to the current payload)
    <dir>/..2026_12_01_10_00_00.123456789/tls.crt (the files themselves)

An update writes a NEW timestamped folder, points a new ``..data_tmp`` symlink at it, renames
``..data_tmp`` over ``..data`` (one atomic ``rename``), and then removes the old folder.  So the
key's own path (``<dir>/tls.crt``) never changes: not its inode, not its mtime, not its size, since
``lstat`` sees the same symlink.  Only the resolved content does.  A program that watches the
symlink's attributes never notices a rotation; one that reads through it does.

Every test that rotates or updates a mounted file (serving certificate, front-proxy CA, rules
ConfigMap, pods file, Prometheus token and CA) uses ``KubeletVolume``::

    volume = KubeletVolume(directory, {"tls.crt": cert_pem, "tls.key": key_pem})
    adapter --tls-cert-file volume.path("tls.crt") ...
    volume.update({"tls.crt": new_cert, "tls.key": new_key})

From another language (the Swift tests), the same fixture as a command, creating the volume or
updating it when it exists::

    python3 -m tests.support.kubelet_volume DIR KEY=@FILE KEY=TEXT ...

Standard library only.
"""

import argparse
import datetime
import os
import shutil
import sys

DATA = "..data"
DATA_TMP = "..data_tmp"


class KubeletVolume:
    """A Secret/ConfigMap volume at ``directory`` holding ``files`` ({key: str or bytes})."""

    def __init__(self, directory, files, clock=None):
        self.directory = directory
        self._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._last_stamp = None
        os.makedirs(directory, exist_ok=True)
        if os.path.lexists(os.path.join(directory, DATA)):
            raise ValueError(f"{directory} already holds a volume")
        self.keys = ()
        self.update(files)

    @classmethod
    def attach(cls, directory, clock=None):
        """The volume already laid out at ``directory`` (by this or another process), ready to update."""
        if not os.path.islink(os.path.join(directory, DATA)):
            raise ValueError(f"{directory} holds no volume (no {DATA} link)")
        volume = cls.__new__(cls)
        volume.directory = directory
        volume._clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc))
        volume._last_stamp = volume.current[2:]
        volume.keys = tuple(sorted(name for name in os.listdir(directory) if not name.startswith("..")))
        return volume

    def path(self, key):
        """The path a container sees for ``key``: ``<dir>/<key>`` (a symlink into ``..data``)."""
        return os.path.join(self.directory, key)

    @property
    def current(self):
        """The name of the timestamped folder ``..data`` points at now."""
        return os.readlink(os.path.join(self.directory, DATA))

    def update(self, files):
        """Replace the whole payload with ``files``, as kubelet does after a Secret/ConfigMap change.

        1. write every file into a new ``..<timestamp>`` folder;
        2. ``..data_tmp -> ..<timestamp>``, then ``rename(..data_tmp, ..data)``: the atomic switch;
        3. add ``<key> -> ..data/<key>`` links for new keys, remove those of keys that went away;
        4. remove the previous timestamped folder.
        Returns the new folder's name.
        """
        if not files:
            raise ValueError("a volume update needs at least one file")
        for key in files:
            if not key or key.startswith("..") or "/" in key:
                raise ValueError(f"invalid key {key!r}")
        old = self.current if os.path.lexists(os.path.join(self.directory, DATA)) else None
        folder = self._new_folder_name()
        staging = os.path.join(self.directory, folder)
        os.mkdir(staging, 0o755)
        for key, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            with open(os.path.join(staging, key), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(staging, key), 0o644)
        tmp_link = os.path.join(self.directory, DATA_TMP)
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(folder, tmp_link)
        os.rename(tmp_link, os.path.join(self.directory, DATA))
        for key in files:
            link = os.path.join(self.directory, key)
            if not os.path.lexists(link):
                os.symlink(os.path.join(DATA, key), link)
        for key in set(self.keys) - set(files):
            os.unlink(os.path.join(self.directory, key))
        self.keys = tuple(sorted(files))
        if old is not None:
            shutil.rmtree(os.path.join(self.directory, old))
        return folder

    def _new_folder_name(self):
        """``..2026_12_01_10_00_00.123456789``: kubelet's layout, unique even within one clock tick."""
        now = self._clock()
        stamp = now.strftime("%Y_%m_%d_%H_%M_%S") + f".{now.microsecond * 1000:09d}"
        if self._last_stamp is not None and stamp <= self._last_stamp:  # same tick: one nanosecond later
            head, nanos = self._last_stamp.rsplit(".", 1)
            stamp = f"{head}.{int(nanos) + 1:09d}"
        self._last_stamp = stamp
        return ".." + stamp


def main(argv=None):
    p = argparse.ArgumentParser(description="Create or update a kubelet-style Secret/ConfigMap volume.")
    p.add_argument("directory")
    p.add_argument("files", nargs="+", metavar="KEY=@FILE|KEY=TEXT")
    args = p.parse_args(argv)
    files = {}
    for item in args.files:
        key, sep, value = item.partition("=")
        if not sep:
            p.error(f"{item!r} is not KEY=@FILE or KEY=TEXT")
        if value.startswith("@"):
            with open(value[1:], "rb") as f:
                files[key] = f.read()
        else:
            files[key] = value
    if os.path.lexists(os.path.join(args.directory, DATA)):
        folder = KubeletVolume.attach(args.directory).update(files)
    else:
        folder = KubeletVolume(args.directory, files).current
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
