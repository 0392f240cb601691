// SPDX-License-Identifier: BSD-2-Clause
// A static file server on 127.0.0.1 for browser tests: serves each file under the folders given,
// first match wins, and prints its port. Pages that fetch() refuse file:// URLs, hence this.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const roots = process.argv.slice(2).map((r) => path.resolve(r));
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                ".json": "application/json", ".wasm": "application/wasm" };

function find(rel) {
  for (const root of roots) {
    const p = path.join(root, rel);
    if (p.startsWith(root + path.sep) && fs.existsSync(p) && fs.statSync(p).isFile()) return p;
  }
  return null;
}

const server = http.createServer((req, res) => {
  const p = find(decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname));
  if (!p) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { "content-type": types[path.extname(p)] || "text/plain; charset=utf-8" });
  fs.createReadStream(p).pipe(res);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
