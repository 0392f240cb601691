// SPDX-License-Identifier: BSD-2-Clause
// Appended to a copy of a flame graph page by exports_flamegraph.sh: drives the page the way a user
// would (search, hover, toggle, click) and leaves what it saw in a pre#result element, a fact a line.
(() => {
  const out = [];
  const $ = (sel) => document.querySelector(sel);
  const frames = (name) => [...document.querySelectorAll("#graph .f")].filter((e) => e.dataset.name === name);
  const say = (k, v) => out.push(k + "=" + v);

  const search = $("#search");
  search.value = "leak_";
  search.dispatchEvent(new Event("input"));
  say("hits", document.querySelectorAll("#graph .f.hit").length);
  say("match", $("#match").textContent);

  frames("map_arena")[0].dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: 50, clientY: 50 }));
  say("tip_shown", $("#tip").style.display);
  say("tip", $("#tip").textContent.split("\n").join(" | "));

  const allocated = $("input[value=ab]");
  allocated.checked = true;
  allocated.dispatchEvent(new Event("change", { bubbles: true }));
  say("allocated_root", frames("all")[0].dataset.bytes);
  say("allocated_handle_request", frames("handle_request").map((e) => e.dataset.bytes).join(","));
  say("hits_after_toggle", document.querySelectorAll("#graph .f.hit").length);

  frames("run_server")[0].click();
  const width = (e) => Math.round(parseFloat(e.style.width));
  say("zoom_run_server_width", width(frames("run_server")[0]));
  say("zoom_root_width", width(frames("all")[0]));
  say("zoom_frames", [...document.querySelectorAll("#graph .f")].map((e) => e.dataset.name).join(","));
  say("zoom_leak_width", frames("leak_buffers").map(width).join(","));

  $("#reset").click();
  say("reset_frames", document.querySelectorAll("#graph .f").length);

  const pre = document.createElement("pre");
  pre.id = "result";
  pre.textContent = out.join("\n");
  document.body.append(pre);
})();
