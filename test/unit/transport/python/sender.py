"""A Concert-style sender: binds PUSH, sends [json header, array] per frame, then {'end': True}.

usage: sender.py ENDPOINT COUNT
"""
import sys

import numpy as np
import zmq

from frames import expected

DTYPES = ['uint16', 'float32', 'uint8', '>u2', 'int32', 'float64', 'int16', 'int8', 'uint32', '<u2']


def main():
    endpoint, count = sys.argv[1], int(sys.argv[2])
    context = zmq.Context()
    socket = context.socket(zmq.PUSH)
    socket.setsockopt(zmq.SNDTIMEO, 10000)
    socket.setsockopt(zmq.LINGER, 5000)
    socket.bind(endpoint)
    print('bound', endpoint, flush=True)
    for i in range(count):
        dtype = np.dtype(DTYPES[i % len(DTYPES)])
        array = expected(i, dtype, (16 + i, 20 + 2 * i))
        # exactly what Python Concert does
        socket.send_json({'dtype': str(array.dtype), 'shape': array.shape, 'index': i}, flags=zmq.SNDMORE)
        socket.send(array, copy=False)
    socket.send_json({'end': True})
    socket.close()
    context.term()


if __name__ == '__main__':
    main()
