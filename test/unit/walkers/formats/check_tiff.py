"""Reads a TIFF file with tifffile and prints one JSON object describing every page.

Usage: /usr/bin/python3 check_tiff.py FILE
Output: {"bigtiff": bool, "byteorder": "<"|">", "pages": [{"shape", "dtype", "description", "data"}]}
where "data" is the pixels as little-endian bytes, base64-encoded (compared exactly by the tests).
"""
import base64
import json
import sys

import tifffile

with tifffile.TiffFile(sys.argv[1]) as tif:
    pages = []
    for page in tif.pages:
        array = page.asarray()
        pages.append({
            'shape': list(array.shape),
            'dtype': str(array.dtype),
            'description': page.description,
            'data': base64.b64encode(array.astype(array.dtype.newbyteorder('<')).tobytes()).decode(),
        })
    print(json.dumps({'bigtiff': tif.is_bigtiff, 'byteorder': tif.byteorder, 'pages': pages}))
