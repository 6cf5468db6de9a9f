"""Reads an NXtomo file with h5py and prints one JSON object describing it.

Usage: /usr/bin/python3 check_h5.py FILE
"""
import base64
import json
import sys

import h5py


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


with h5py.File(sys.argv[1], 'r') as f:
    entry = f['entry']
    data = entry['instrument/detector/data']
    classes = {}
    f.visititems(lambda name, obj: classes.__setitem__(name, text(obj.attrs['NX_class'])) if 'NX_class' in obj.attrs else None)
    print(json.dumps({
        'complete': int(entry.attrs['complete']),
        'definition': text(entry['definition'][()]),
        'classes': classes,
        'shape': list(data.shape),
        'maxshape': [m if m is not None else -1 for m in data.maxshape],
        'chunks': list(data.chunks),
        'dtype': str(data.dtype),
        'data': base64.b64encode(data[()].astype(data.dtype.newbyteorder('<')).tobytes()).decode(),
        'image_key': entry['instrument/detector/image_key'][()].tolist(),
        'rotation_angle': [None if a != a else a for a in entry['sample/rotation_angle'][()].tolist()],
        'angle_units': text(entry['sample/rotation_angle'].attrs['units']),
        'signal': text(entry['data'].attrs['signal']),
        'links': {k: f['entry/data'].get(k, getlink=True).path for k in f['entry/data']},
        'linked_shape': list(entry['data/data'].shape),
    }))
