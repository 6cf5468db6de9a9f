"""Python Concert's own image stream classes (concert.networking.base) as a peer of ours.

usage: concert_peer.py receive ENDPOINT    -- ZmqReceiver.subscribe() until the end marker; prints a JSON summary
       concert_peer.py send ENDPOINT COUNT -- ZmqSender binds and sends COUNT uint16 frames, then the end marker
"""
import asyncio
import json
import sys

import numpy as np
from concert.networking.base import ZmqReceiver, ZmqSender
from concert.quantities import q


async def receive(endpoint):
    receiver = ZmqReceiver(endpoint=endpoint, timeout=20 * q.s)
    frames, metadata = 0, []
    async for meta, image in receiver.subscribe(return_metadata=True):
        frames += 1
        metadata.append({'stream': meta.get('stream'), 'frameNumber': meta.get('frameNumber'),
                         'sum': int(np.asarray(image, dtype=np.int64).sum()), 'shape': list(image.shape)})
    receiver.close()
    print(json.dumps({'frames': frames, 'metadata': metadata}))


async def send(endpoint, count):
    sender = ZmqSender(endpoint=endpoint, reliable=True, timeout=20 * q.s)
    print('bound', endpoint, flush=True)
    for i in range(count):
        await sender.send_image(np.full((4, 6), i, dtype=np.uint16))
    await sender.send_image(None)
    await asyncio.sleep(1)
    sender.close()


if __name__ == '__main__':
    if sys.argv[1] == 'receive':
        asyncio.run(receive(sys.argv[2]))
    else:
        asyncio.run(send(sys.argv[2], int(sys.argv[3])))
