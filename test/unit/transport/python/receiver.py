"""A Concert-style receiver: connects PULL, checks every frame's header and pixels until {'end': True}.

usage: receiver.py ENDPOINT — prints a JSON summary on stdout.
"""
import json
import sys

import numpy as np
import zmq

from frames import expected


def main():
    endpoint = sys.argv[1]
    context = zmq.Context()
    socket = context.socket(zmq.PULL)
    socket.setsockopt(zmq.RCVTIMEO, 10000)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    frames, errors, dtypes, metadata = 0, [], [], []
    while True:
        header = socket.recv_json()
        if 'end' in header:
            break
        buf = socket.recv(copy=False)
        array = np.frombuffer(buf, dtype=header['dtype']).reshape(header['shape'])
        want = expected(header['frameNumber'], array.dtype, tuple(header['shape']))
        if not np.array_equal(array, want):
            errors.append('frame %d: pixels differ' % header['frameNumber'])
        if header.get('version') != 1:
            errors.append('frame %d: version %r' % (header['frameNumber'], header.get('version')))
        frames += 1
        dtypes.append(str(array.dtype))
        metadata.append({k: v for k, v in header.items() if k not in ('dtype', 'shape')})
    print(json.dumps({'frames': frames, 'errors': errors, 'dtypes': dtypes, 'metadata': metadata}))
    socket.close()
    context.term()


if __name__ == '__main__':
    main()
