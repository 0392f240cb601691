// SPDX-License-Identifier: BSD-2-Clause
// Counts the pixels of a PNG screenshot (8-bit RGB or RGBA, not interlaced) that have each of the
// colours given as "r,g,b" arguments; prints "WIDTHxHEIGHT" then "r,g,b COUNT" lines.
import fs from "node:fs";
import zlib from "node:zlib";

const [file, ...wanted] = process.argv.slice(2);
const png = fs.readFileSync(file);
if (png.readUInt32BE(0) !== 0x89504e47) throw new Error(file + ": not a PNG");

let width, height, depth, type, idat = [];
for (let at = 8; at < png.length;) {
  const len = png.readUInt32BE(at), kind = png.toString("latin1", at + 4, at + 8);
  const body = png.subarray(at + 8, at + 8 + len);
  if (kind === "IHDR") {
    [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
    [depth, type] = [body[8], body[9]];
    if (body[12]) throw new Error("interlaced PNG");
  } else if (kind === "IDAT") idat.push(body);
  at += 12 + len;
}
if (depth !== 8 || (type !== 2 && type !== 6)) throw new Error(`PNG type ${type}/${depth}`);

// Undo the per-row filters (PNG spec, section 9) to get raw pixels.
const bpp = type === 6 ? 4 : 3, stride = width * bpp;
const raw = zlib.inflateSync(Buffer.concat(idat)), px = Buffer.alloc(stride * height);
const paeth = (a, b, c) => {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};
for (let y = 0; y < height; y++) {
  const filter = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
  for (let x = 0; x < stride; x++) {
    const a = x >= bpp ? px[dst + x - bpp] : 0, b = y ? px[dst - stride + x] : 0;
    const c = x >= bpp && y ? px[dst - stride + x - bpp] : 0;
    const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
    px[dst + x] = (raw[src + x] + pred) & 0xff;
  }
}

const counts = new Map(wanted.map((w) => [w, 0]));
for (let i = 0; i < px.length; i += bpp) {
  const key = `${px[i]},${px[i + 1]},${px[i + 2]}`;
  if (counts.has(key)) counts.set(key, counts.get(key) + 1);
}
console.log(`${width}x${height}`);
for (const [k, v] of counts) console.log(`${k} ${v}`);
