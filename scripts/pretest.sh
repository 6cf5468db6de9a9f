#!/usr/bin/env bash
# Installs the Debian packages some tests need, if they are missing and we can (root + apt-get).
# Tests whose tools are still missing are reported as skipped with the reason, never passed.
set -u
packages=(
  libtiff-tools      # tiffinfo: checks our TIFF files
  python3-tifffile   # tifffile: reads our TIFF files back
  python3-numpy
  python3-zmq        # interop with Python Concert-style senders/receivers
  hdf5-tools         # h5dump/h5ls: checks our HDF5 files
  python3-h5py
  tmux               # drives the interactive REPL like a person
  chromium           # web live view tests (playwright-core)
  tango-test         # TangoTest device server for the Tango client
  python3-tango      # PyTango: motor test server and reference benchmark
  unzip              # checks `concert export` zips
  ffmpeg             # ffmpeg/ffprobe not ours: read back the movies we write
  sqlite3            # reads streaming output sets from another process
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "pretest: all Debian test packages are installed"
  exit 0
fi
echo "pretest: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "pretest: cannot install (not root or no apt-get); tests needing them will be skipped with the reason"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/tmp/concert-pretest-apt.log 2>&1; then
  echo "pretest: apt-get failed (see /tmp/concert-pretest-apt.log); tests needing these packages will be skipped with the reason"
  tail -5 /tmp/concert-pretest-apt.log
fi
exit 0
