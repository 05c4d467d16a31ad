#!/usr/bin/env python3
# Checks `relutope export` through a walk (--engine segment) against the dense engines' export of the same
# plane or segment (issue 9): the dense engines lower the graph to layers and enumerate with the vertex
# engine, a different algorithm, so they are an independent truth for the walk on a graph small enough to
# lower (the digits CNN).
#   compare_walked_export.py WALK.jsonl DENSE.jsonl [WALK.png DENSE.png]
# The same regions in the same order (by pattern), the same full patterns (each record's pattern rebuilt from
# the first record's and its pattern_changes), every vertex within 1e-9 of the size of the domain of a vertex
# of the same region, the same volumes and affine maps within 1e-9 relative; the two pictures the same
# size with at most 0.01% of their pixels different (decoded here, zlib only).
import json, struct, sys, zlib


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def rebuild(walk):
    """Each record's full pattern from the first record's text and its pattern_changes ([layer, unit, state])."""
    groups = walk[0]['pattern'].split('|')
    layers = []
    for g in groups:
        layers.append(g.split('.') if '.' in g else list(g))
    # A layer of one Max unit has no '.': it is one decimal number; a ReLU layer one digit per unit. The
    # dense pattern tells which (a layer with '.' or multi-digit entries); units are addressed by element,
    # and for these graphs (no linear rows, no one-input windows) element = position in the layer.
    out = []
    for r in walk:
        copy = [list(l) for l in layers]
        for layer, unit, state in r['pattern_changes']:
            copy[layer][unit] = str(state)
        text = '|'.join(('.' if '.' in groups[i] else '').join(l) for i, l in enumerate(copy))
        if 'pattern' in r and r['pattern'] != text:
            sys.exit(f'FAIL: record {r["id"]}: its pattern is not the first record\'s with its pattern_changes')
        out.append(text)
    return out


def png_pixels(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path
    pos, idat, width = 8, b'', 0
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 4 if colour == 6 else 3
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


walk, dense = records(sys.argv[1]), records(sys.argv[2])
problems = []
if len(walk) != len(dense):
    sys.exit(f'FAIL: {len(walk)} regions from the walk, {len(dense)} from the dense engines')
patterns = rebuild(walk)
extent = max(abs(c) for d in dense for v in d['vertices'] for c in v) or 1.0
for i, (w, d, p) in enumerate(zip(walk, dense, patterns)):
    if w['id'] != d['id'] or p != d['pattern']:
        problems.append(f'region {i}: pattern {p[:40]}... against {d["pattern"][:40]}...')
        continue
    for v in w['vertices']:
        near = min(max(abs(a - b) for a, b in zip(v, u)) for u in d['vertices'])
        if near > 1e-9 * extent:
            problems.append(f'region {i}: vertex {v} is {near} from every dense vertex')
    if len(w['vertices']) != len(d['vertices']):
        problems.append(f'region {i}: {len(w["vertices"])} vertices against {len(d["vertices"])}')
    if abs(w['volume'] - d['volume']) > 1e-9 * max(abs(d['volume']), extent ** len(v) * 1e-6):
        problems.append(f'region {i}: volume {w["volume"]} against {d["volume"]}')
    for key in ('weight', 'bias'):
        a = w['map'][key]; b = d['map'][key]
        flat_a = [x for row in a for x in (row if isinstance(row, list) else [row])]
        flat_b = [x for row in b for x in (row if isinstance(row, list) else [row])]
        scale = max(abs(x) for x in flat_b) or 1.0
        if max(abs(x - y) for x, y in zip(flat_a, flat_b)) > 1e-9 * scale:
            problems.append(f'region {i}: map {key} differs')
print(f'{len(walk)} regions compared, {len(problems)} disagreements')
if len(sys.argv) > 4:
    wa, ha, ca, ra = png_pixels(sys.argv[3])
    wb, hb, cb, rb = png_pixels(sys.argv[4])
    if (wa, ha, ca) != (wb, hb, cb):
        problems.append(f'pictures {wa}x{ha}x{ca} and {wb}x{hb}x{cb}')
    else:
        differ = sum(1 for y in range(ha) for x in range(wa) if ra[y][x * ca:(x + 1) * ca] != rb[y][x * ca:(x + 1) * ca])
        colours_a = {ra[y][x * ca:(x + 1) * ca] for y in range(0, ha, 3) for x in range(0, wa, 3)}
        colours_b = {rb[y][x * ca:(x + 1) * ca] for y in range(0, hb, 3) for x in range(0, wb, 3)}
        print(f'pictures {wa}x{ha}: {differ} pixels differ, {len(colours_a)} and {len(colours_b)} colours (sampled)')
        if differ > 1e-4 * wa * ha:
            problems.append(f'{differ} of {wa * ha} pixels differ')
for p in problems[:20]:
    print(p)
print('ok' if not problems else 'FAIL')
