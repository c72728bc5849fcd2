# Writes pillow-resize-reference.json: PIL.Image.resize of synthetic 8-bit RGB images to BLIP's 384 x 384, as
# transformers' BlipImageProcessor calls it (resample=BICUBIC, no reducing_gap), plus a few other filters.
# Needs Pillow and numpy (Debian: python3-pil python3-numpy; run with /usr/bin/python3). Each output is stored
# as the SHA-256 of its raw RGB bytes and every 13th pixel of every 13th row.
import hashlib, json, os
import numpy as np
import PIL
from PIL import Image

def synthetic(w, h):
    # integer-only, so that the test builds the same image
    y, x = np.mgrid[0:h, 0:w]
    noise = (x * 7919 + y * 104729) % 41 - 20
    img = np.stack([x * 255 // (w - 1) + noise, y * 255 // (h - 1) - noise,
                    np.where((x // 7 + y // 9) % 2 == 0, 230, 20) + noise], -1)
    return img.clip(0, 255).astype(np.uint8)

FILTERS = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR, 'lanczos': Image.LANCZOS,
           'box': Image.BOX, 'hamming': Image.HAMMING}
CASES = [(640, 512, 384, 384, 'bicubic'), (200, 150, 384, 384, 'bicubic'), (384, 200, 384, 384, 'bicubic'),
         (1001, 333, 384, 384, 'bicubic'), (640, 512, 384, 384, 'bilinear'), (200, 150, 384, 384, 'lanczos'),
         (640, 512, 384, 384, 'box'), (200, 150, 384, 384, 'hamming')]
out = {'pillow': PIL.__version__, 'stride': 13, 'cases': []}
for w, h, ow, oh, f in CASES:
    res = np.asarray(Image.fromarray(synthetic(w, h)).resize((ow, oh), resample=FILTERS[f]))
    out['cases'].append({'width': w, 'height': h, 'outWidth': ow, 'outHeight': oh, 'filter': f,
                         'sha256': hashlib.sha256(res.tobytes()).hexdigest(),
                         'samples': res[::13, ::13].reshape(-1).tolist()})
here = os.path.dirname(os.path.abspath(__file__))
json.dump(out, open(os.path.join(here, 'pillow-resize-reference.json'), 'w'), separators=(',', ':'))
print(PIL.__version__, len(out['cases']), 'cases')
