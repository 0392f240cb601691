// SPDX-License-Identifier: BSD-2-Clause
// Reads a DOM dump of speedscope's sandwich view on stdin and prints its table as
// "total<TAB>self<TAB>name" lines, numbers without their thousands separators.
import fs from "node:fs";

const dom = fs.readFileSync(0, "utf8");
const text = (html) => html.replace(/<[^>]*>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
  .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
const number = (cell) => (cell.match(/^[\d,]+/) || ["NaN"])[0].replace(/,/g, "");

for (const row of dom.split(/<tr\b/).slice(1)) {
  const cells = [...row.matchAll(/<td\b[^>]*>([\s\S]*?)<\/td>/g)].map((m) => text(m[1]));
  if (cells.length === 3) console.log([number(cells[0]), number(cells[1]), cells[2]].join("\t"));
}
