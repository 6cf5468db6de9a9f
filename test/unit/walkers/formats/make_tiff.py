"""Writes reference TIFF files with tifffile for the reader tests.

Usage: /usr/bin/python3 make_tiff.py DIR
Writes DIR/<name>.tif and prints a JSON list of {"name", "dtype", "shape", "pages", "bigtiff",
"byteorder", "tiled", "description", "data": [base64 little-endian bytes of each page]}.
"""
import base64
import json
import os
import sys

import numpy
import tifffile

out = sys.argv[1]
cases = []


def write(name, arrays, **kwargs):
    path = os.path.join(out, name + '.tif')
    description = json.dumps({'source': name})
    with tifffile.TiffWriter(path, bigtiff=kwargs.pop('bigtiff', False), byteorder=kwargs.pop('byteorder', '<')) as tif:
        for a in arrays:
            tif.write(a, description=description, metadata=None, **kwargs)
    with tifffile.TiffFile(path) as tif:
        bigtiff, byteorder = tif.is_bigtiff, tif.byteorder
    cases.append({
        'name': name, 'dtype': str(arrays[0].dtype), 'shape': list(arrays[0].shape), 'pages': len(arrays),
        'bigtiff': bigtiff, 'byteorder': byteorder, 'tiled': 'tile' in kwargs, 'description': description,
        'data': [base64.b64encode(a.astype(a.dtype.newbyteorder('<')).tobytes()).decode() for a in arrays],
    })


rng = numpy.random.default_rng(1)
for dtype in ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64']:
    info = numpy.iinfo(dtype) if dtype[0] in 'ui' else numpy.finfo(dtype)
    arrays = [rng.uniform(info.min / 2, info.max / 2, (37, 21)).astype(dtype) for _ in range(3)]
    write(f'{dtype}-be-strips', arrays, byteorder='>', rowsperstrip=5)
    write(f'{dtype}-le-tiles', arrays, tile=(16, 16))
    write(f'{dtype}-be-big-tiles', arrays, byteorder='>', bigtiff=True, tile=(16, 32))
tifffile.imwrite(os.path.join(out, 'compressed.tif'), numpy.ones((8, 8), 'uint16'), compression='zlib')
tifffile.imwrite(os.path.join(out, 'rgb.tif'), numpy.ones((8, 8, 3), 'uint8'), photometric='rgb')
print(json.dumps(cases))
