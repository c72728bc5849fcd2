# Generates pil-bicubic-640x512-to-384.json (run: python3 pil_bicubic_reference.py; needs numpy only).
# PIL's Image.resize(BICUBIC) for uint8 RGB (Resample.c: separable, horizontal then vertical, 22-bit fixed point)
import numpy as np, json, sys
PB = 22
def cubic(x, a=-0.5):
    x = abs(x)
    if x < 1: return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2: return (((x - 5) * x + 8) * x - 4) * a
    return 0.0
def coeffs(in_size, out_size):
    scale = in_size / out_size
    fs = max(scale, 1.0)
    support = 2.0 * fs
    rows = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        k = [cubic((x + xmin - center + 0.5) / fs) for x in range(xmax)]
        ww = sum(k)
        k = [w / ww if ww != 0 else 0 for w in k]
        ki = [int(0.5 + w * (1 << PB)) if w >= 0 else int(-0.5 + w * (1 << PB)) for w in k]
        rows.append((xmin, ki))
    return rows
def pass_axis(img, out_size, axis):
    img = np.moveaxis(img, axis, 0).astype(np.int64)
    out = np.zeros((out_size,) + img.shape[1:], dtype=np.int64)
    for i, (xmin, ki) in enumerate(coeffs(img.shape[0], out_size)):
        ss = np.full(img.shape[1:], 1 << (PB - 1), dtype=np.int64)
        for j, w in enumerate(ki): ss += img[xmin + j] * w
        out[i] = np.clip(ss >> PB, 0, 255)
    return np.moveaxis(out.astype(np.uint8), 0, axis)
def resize(img, w, h):  # img HWC uint8
    return pass_axis(pass_axis(img, w, 1), h, 0)

if __name__ == '__main__':
    import json
    H, W = 512, 640
    y, x = np.mgrid[0:H, 0:W]
    noise = (x * 7919 + y * 104729) % 41 - 20
    img = np.stack([x * 255 // (W - 1) + noise, y * 255 // (H - 1) - noise, np.where((x // 7 + y // 9) % 2 == 0, 230, 20) + noise], -1)
    img = img.clip(0, 255).astype(np.uint8)
    out = resize(img, 384, 384)
    stride = 13
    sub = out[::stride, ::stride]
    json.dump({"source": "Pillow BICUBIC (Resample.c) in numpy; image: see blip-model.test.ts", "width": W, "height": H,
               "stride": stride, "rows": sub.shape[0], "cols": sub.shape[1], "rgb": sub.reshape(-1).tolist()},
              open(__file__.replace('pil_bicubic_reference.py', 'pil-bicubic-640x512-to-384.json'), 'w'))
    print(sub.shape)
