#!/usr/bin/env python3
"""Self-test of tests/support/kubelet_volume.py: the layout and the update kubelet makes.

    /usr/bin/python3 -m unittest tests/harness/test_kubelet_volume.py -v
"""

import datetime
import os
import re
import tempfile
import unittest

from tests.support.kubelet_volume import KubeletVolume

STAMP = re.compile(r"\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9}")


def fixed_clock():
    return datetime.datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=datetime.timezone.utc)


class KubeletVolumeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.dir = os.path.join(self.tmp.name, "secret")

    def read(self, key):
        with open(os.path.join(self.dir, key), encoding="utf-8") as f:
            return f.read()

    def test_layout_is_kubelets(self):
        volume = KubeletVolume(self.dir, {"tls.crt": "cert-1", "tls.key": "key-1"}, clock=fixed_clock)
        self.assertEqual(volume.current, "..2026_12_01_10_00_00.123456000")
        self.assertEqual(sorted(os.listdir(self.dir)), ["..2026_12_01_10_00_00.123456000", "..data", "tls.crt", "tls.key"])
        self.assertEqual(os.readlink(os.path.join(self.dir, "..data")), "..2026_12_01_10_00_00.123456000")
        self.assertEqual(os.readlink(os.path.join(self.dir, "tls.crt")), "..data/tls.crt")
        self.assertEqual(os.readlink(volume.path("tls.key")), "..data/tls.key")
        self.assertEqual((self.read("tls.crt"), self.read("tls.key")), ("cert-1", "key-1"))

    def test_update_swaps_data_and_keeps_the_key_links_untouched(self):
        volume = KubeletVolume(self.dir, {"tls.crt": "cert-1", "tls.key": "key-1"})
        first = volume.current
        link_before = os.lstat(volume.path("tls.crt"))
        target_before = os.stat(volume.path("tls.crt"))
        second = volume.update({"tls.crt": "cert-2", "tls.key": "key-2"})
        self.assertNotEqual(first, second)
        self.assertRegex(second, STAMP)
        self.assertEqual(volume.current, second)
        self.assertEqual((self.read("tls.crt"), self.read("tls.key")), ("cert-2", "key-2"))
        # What kubelet guarantees, and what fooled the adapter: the key's own symlink is the same object.
        link_after = os.lstat(volume.path("tls.crt"))
        self.assertEqual((link_after.st_ino, link_after.st_mtime_ns, link_after.st_size),
                         (link_before.st_ino, link_before.st_mtime_ns, link_before.st_size))
        # The resolved file is a new one.
        self.assertNotEqual(os.stat(volume.path("tls.crt")).st_ino, target_before.st_ino)
        # The old payload is gone, no temporary link is left behind.
        self.assertEqual(sorted(os.listdir(self.dir)), sorted([second, "..data", "tls.crt", "tls.key"]))

    def test_updates_within_one_clock_tick_get_distinct_folders(self):
        volume = KubeletVolume(self.dir, {"config.yaml": "a"}, clock=fixed_clock)
        names = {volume.current}
        for text in ("b", "c", "d"):
            names.add(volume.update({"config.yaml": text}))
            self.assertEqual(self.read("config.yaml"), text)
        self.assertEqual(len(names), 4)

    def test_keys_added_and_removed(self):
        volume = KubeletVolume(self.dir, {"a": "1", "b": "2"})
        volume.update({"b": "3", "c": "4"})
        self.assertFalse(os.path.lexists(os.path.join(self.dir, "a")))
        self.assertEqual((self.read("b"), self.read("c")), ("3", "4"))
        self.assertEqual(volume.keys, ("b", "c"))

    def test_command_creates_then_updates(self):
        import subprocess
        from tests.support import REPO, module_argv
        source = os.path.join(self.tmp.name, "ca.pem")
        with open(source, "w", encoding="utf-8") as f:
            f.write("CA-1")
        run = lambda *files: subprocess.run([*module_argv("kubelet_volume"), self.dir, *files], cwd=REPO,
                                            capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        first = run(f"ca.crt=@{source}", "token=t1")
        self.assertRegex(first, STAMP)
        self.assertEqual((self.read("ca.crt"), self.read("token")), ("CA-1", "t1"))
        second = run(f"ca.crt=@{source}", "token=t2")
        self.assertGreater(second, first)
        self.assertEqual(os.readlink(os.path.join(self.dir, "..data")), second)
        self.assertEqual(self.read("token"), "t2")
        self.assertFalse(os.path.exists(os.path.join(self.dir, first)))

    def test_bad_keys_and_reuse_are_refused(self):
        for key in ("", "..data", "a/b"):
            with self.subTest(key=key), self.assertRaises(ValueError):
                KubeletVolume(os.path.join(self.tmp.name, "bad"), {key: "x"})
        KubeletVolume(self.dir, {"a": "1"})
        with self.assertRaises(ValueError):
            KubeletVolume(self.dir, {"a": "1"})


if __name__ == "__main__":
    unittest.main()
