"""Plots bench/remote-soak.ts's samples: memory per process and frame counts over time.

usage: plot-soak.py SAMPLES.json OUT.png (Debian python3-matplotlib, run with /usr/bin/python3)
"""
import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def main():
    source, out = sys.argv[1], sys.argv[2]
    with open(source) as f:
        data = json.load(f)
    samples, restarts = data['samples'], data['restarts']
    t = [s['t'] / 60 for s in samples]
    fig, (mem, frames) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    names = sorted({k for s in samples for k in s['memory']})
    for name in names:
        mem.plot(t, [s['memory'].get(name) for s in samples], label=name)
    mem.set_ylabel('resident memory [MiB]')
    mem.set_title('Remote soak: camera → writer + live + reco, %d min, a server killed and restarted every %g min'
                  % (data['minutes'], data['restartEvery']))
    mem.legend(loc='upper left', ncol=len(names))
    frames.plot(t, [s['framesWritten'] for s in samples], label='frames written and read back', color='tab:green')
    frames.set_ylabel('frames')
    runs = frames.twinx()
    runs.plot(t, [s['runsComplete'] for s in samples], label='runs complete', color='tab:blue', linestyle='--')
    runs.plot(t, [s['runsFailed'] for s in samples], label='runs failed (clear error)', color='tab:red', linestyle=':')
    runs.set_ylabel('runs')
    frames.set_xlabel('time [min]')
    for axis in (mem, frames):
        for r in restarts:
            axis.axvline(r['t'] / 60, color='grey', linewidth=0.8, alpha=0.6)
    for r in restarts:
        mem.annotate(r['kind'], (r['t'] / 60, mem.get_ylim()[1]), rotation=90, va='top', ha='right', fontsize=8,
                     color='grey')
    lines = frames.get_legend_handles_labels()[0] + runs.get_legend_handles_labels()[0]
    labels = frames.get_legend_handles_labels()[1] + runs.get_legend_handles_labels()[1]
    frames.legend(lines, labels, loc='upper left')
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == '__main__':
    main()
