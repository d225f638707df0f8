// The identity track's frame list: which frames of which game's sprites show each character in
// a different pose or from a different direction. Reads the games' own animation descriptions
// and prints one line per frame to cut (bench/identity_frames.c cuts, trims and de-duplicates):
//
//   source  franchise  character  pose  file  spec
//
// spec is "whole", "rect X Y W H" or "grid COLUMNS ROWS INDEX". A franchise is the game's own
// grouping of look-alike characters: a Wesnoth race, a Widelands tribe, a Flare creature family,
// FreedroidRPG's droids or people.
//
//   node bench/identity_manifest.js WESNOTH_ROOT WIDELANDS_ROOT FREEDROID_ROOT FLARE_ROOT
// (each the folder scripts/fetch-deb.sh unpacked the game's data package into)
"use strict";
const fs = require("fs");
const path = require("path");

const [wesnoth, widelands, freedroid, flare] = process.argv.slice(2);
if (!flare) {
  process.stderr.write("usage: identity_manifest.js WESNOTH WIDELANDS FREEDROID FLARE\n");
  process.exit(2);
}
const out = [];
const emit = (source, franchise, character, pose, file, spec) =>
  out.push([source, franchise, character, pose, file, spec].join("\t"));

// Of an animation's frames, the one in the middle: the pose furthest from both ends, which
// often repeat the standing pose.
const middle = (list) => list[Math.floor(list.length / 2)];

function walk(dir, files = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, files);
    else files.push(p);
  }
  return files;
}

// Wesnoth: units/<race>/[...]/<unit>[+variant][-animation[N]].png, 72x72 sprites. A unit's
// female form or another rank of its line is a character of its own, in the race's franchise.
// Unit names have dashes too (great-mage): a frame belongs to the longest dash-separated prefix
// of its name that is a picture of its own in the same folder (the unit's base picture).
function wesnothFrames(root) {
  const units = path.join(root, "usr/share/games/wesnoth/1.16/data/core/images/units");
  const byUnit = new Map();
  const files = walk(units).sort();
  const exists = new Set(files);
  for (const file of files) {
    const rel = path.relative(units, file);
    if (!rel.endsWith(".png") || !rel.includes("/")) continue;
    const base = path.basename(rel, ".png");
    if (/mask|shadow|-ranged-|halo|flare|bolt|glow|missile|splash|projectile/.test(base)) continue;
    const parts = base.split("-");
    let n = parts.length - 1;
    while (n > 0 && !exists.has(path.join(path.dirname(file), parts.slice(0, n).join("-") + ".png"))) n--;
    if (n === 0) n = parts.length; // no shorter picture: this is a base picture itself
    const unit = parts.slice(0, n).join("-");
    const anim = n === parts.length ? "base" : parts.slice(n).join("-").replace(/-?\d+$/, "");
    const key = path.join(path.dirname(rel), unit);
    if (!byUnit.has(key)) byUnit.set(key, new Map());
    const anims = byUnit.get(key);
    if (!anims.has(anim)) anims.set(anim, []);
    anims.get(anim).push(file);
  }
  for (const [key, anims] of byUnit) {
    const race = key.split("/")[0];
    const character = "wesnoth:" + key.replace(/\//g, ":");
    for (const [anim, files] of anims) emit("wesnoth", "wesnoth:" + race, character, anim, middle(files), "whole");
  }
}

// Widelands: each worker, critter and ship is described in init.lua by spritesheets of
// COLUMNS x ROWS frames, one file per direction for directional animations, at scales 1, 2
// and 4 (the largest one the game ships is used).
function widelandsFrames(root) {
  const data = path.join(root, "usr/share/games/widelands/data");
  const dirs = [];
  for (const tribe of fs.readdirSync(path.join(data, "tribes/workers")).sort())
    for (const w of fs.readdirSync(path.join(data, "tribes/workers", tribe)).sort())
      dirs.push([tribe, path.join(data, "tribes/workers", tribe, w)]);
  for (const c of fs.readdirSync(path.join(data, "world/critters")).sort())
    dirs.push(["critters", path.join(data, "world/critters", c)]);
  for (const tribe of fs.readdirSync(path.join(data, "tribes/ships")).sort())
    dirs.push([tribe, path.join(data, "tribes/ships", tribe)]);
  for (const [franchise, dir] of dirs) {
    const init = path.join(dir, "init.lua");
    if (!fs.existsSync(init)) continue;
    const lua = fs.readFileSync(init, "utf8").replace(/--.*$/gm, "");
    const sheets = lua.indexOf("spritesheets");
    if (sheets < 0) continue;
    const files = fs.readdirSync(dir);
    const character = "widelands:" + franchise + ":" + path.basename(dir);
    // name = { ... frames = F, rows = R, columns = C, directional = true ... }
    const re = /(\w+)\s*=\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g;
    re.lastIndex = sheets;
    let m;
    while ((m = re.exec(lua))) {
      const [, anim, body] = m;
      if (/basename/.test(body)) continue; // the same frames as another animation
      const num = (k) => +(new RegExp(k + "\\s*=\\s*(\\d+)").exec(body) || [0, 0])[1];
      const frames = num("frames"), rows = num("rows"), columns = num("columns");
      if (!frames || !rows || !columns) continue;
      const directional = /directional\s*=\s*true/.test(body);
      const largest = (stem) => {
        for (const s of ["4", "2", "1"]) if (files.includes(`${stem}_${s}.png`)) return path.join(dir, `${stem}_${s}.png`);
        return null;
      };
      // Walking is where the directions differ; elsewhere one direction is enough.
      const dirsOf = directional ? (anim === "walk" || anim === "sail" ? ["e", "ne", "nw", "se", "sw", "w"] : ["se"]) : [""];
      for (const d of dirsOf) {
        const file = largest(d ? `${anim}_${d}` : anim);
        if (!file) continue;
        const index = anim === "walk" || anim === "sail" ? 0 : Math.floor(frames / 2);
        emit("widelands", "widelands:" + franchise, character, anim + (d ? "-" + d : ""), file, `grid ${columns} ${rows} ${index}`);
      }
    }
  }
}

// FreedroidRPG: each droid or person is rendered from eight directions into atlas pages, listed
// in atlas.txt ("* page.png size W H", then "frame.png X Y W H off DX DY").
function freedroidFrames(root) {
  const droids = path.join(root, "usr/share/freedroidrpg/data/graphics/droids");
  for (const name of fs.readdirSync(droids).sort()) {
    const atlas = path.join(droids, name, "atlas.txt");
    if (!fs.existsSync(atlas)) continue;
    const frames = new Map();
    let page = null;
    for (const line of fs.readFileSync(atlas, "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f[0] === "*") page = path.join(droids, name, f[1]);
      else if (page && f.length >= 5) frames.set(f[0].replace(/\.png$/, ""), { page, rect: f.slice(1, 5).join(" ") });
    }
    const franchise = /^\d+$/.test(name) ? "freedroid:droids" : "freedroid:people";
    const pick = (frame, pose) => {
      const f = frames.get(frame);
      if (f) emit("freedroid", franchise, "freedroid:" + name, pose, f.page, "rect " + f.rect);
    };
    for (let r = 0; r < 8; r++) {
      const rot = `enemy_rot_${String(r).padStart(2, "0")}`;
      pick(frames.has(`${rot}_stand-00`) ? `${rot}_stand-00` : `${rot}_walk-00`, `stand-${r}`);
      if (r % 2 === 0) pick(`${rot}_attack-02`, `attack-${r}`);
    }
  }
}

// Flare: enemies and townsfolk, animations/<kind>/<name>.txt: "image=...", then "[section]"
// and "frame=INDEX,DIRECTION,X,Y,W,H,DX,DY" lines. Several files can animate one image (a
// goblin and a goblin runner): the image is the character.
function flareFrames(root) {
  const mods = path.join(root, "usr/share/games/flare/mods");
  const seen = new Set();
  for (const mod of fs.readdirSync(mods).sort())
    for (const kind of ["enemies", "npcs"]) {
      const dir = path.join(mods, mod, "animations", kind);
      if (!fs.existsSync(dir)) continue;
      for (const txt of fs.readdirSync(dir).sort()) {
        let image = null, section = null;
        const bySection = new Map();
        for (const line of fs.readFileSync(path.join(dir, txt), "utf8").split("\n")) {
          const t = line.trim();
          if (t.startsWith("image=")) image = t.slice(6);
          else if (/^\[\w+\]$/.test(t)) section = t.slice(1, -1);
          else if (t.startsWith("frame=") && section) {
            const [index, direction, x, y, w, h] = t.slice(6).split(",").map(Number);
            if (!(w > 0 && h > 0)) continue; // a frame the game leaves empty
            if (!bySection.has(section)) bySection.set(section, []);
            bySection.get(section).push({ index, direction, rect: [x, y, w, h].join(" ") });
          }
        }
        if (!image || seen.has(image)) continue;
        // The image may live in this mod or in the core one.
        const file = [mod, "fantasycore"].map((m) => path.join(mods, m, image)).find((p) => fs.existsSync(p));
        if (!file) continue;
        seen.add(image);
        const stem = path.basename(image, ".png");
        const family = kind === "npcs" ? "townsfolk" : stem.replace(/^(fire|ice|water|air|dark)_/, "").split("_")[0];
        const character = "flare:" + stem;
        for (const [sec, frames] of bySection) {
          const indexes = [...new Set(frames.map((f) => f.index))].sort((a, b) => a - b);
          const index = sec === "stance" ? indexes[0] : middle(indexes);
          for (const f of frames) {
            if (f.index !== index) continue;
            if (sec !== "stance" && f.direction % 2) continue; // four directions are enough here
            emit("flare", "flare:" + family, character, `${sec}-${f.direction}`, file, "rect " + f.rect);
          }
        }
      }
    }
}

wesnothFrames(wesnoth);
widelandsFrames(widelands);
freedroidFrames(freedroid);
flareFrames(flare);
process.stdout.write(out.join("\n") + "\n");
