#!/usr/bin/env node
// gen-uapi-headers.mjs - make the kernel's installed uapi headers usable from
// host C code that also includes the host C library's headers.
//
//   node gen-uapi-headers.mjs <installed-include-dir> <out-dir> <entry.h>...
//
// <installed-include-dir> is the include/ directory written by
// `make headers_install INSTALL_HDR_PATH=...`.  Starting from the entry
// headers (paths relative to it, e.g. asm/unistd.h linux/stat.h) every
// header reachable through #include <...> is copied to
// <out-dir>/lkl/<same path> with:
//   - includes of headers in the tree rewritten to <lkl/...>;
//   - every identifier defined in that set renamed as a whole word:
//       struct/union/enum tags, typedef names and
//       static (inline) functions                 NAME -> lkl_NAME
//       macros (include guards too), enum consts  NAME -> LKL_NAME
//     A name that is both a type and a macro (the kernel's
//     `#define __kernel_old_uid_t __kernel_old_uid_t` idiom) takes lkl_, so
//     every occurrence still refers to the same renamed thing.  A file's
//     use of a name is renamed only where the definition is visible to it
//     (see `related` below); plus a few special cases (ALSO_*, pasting).
// It also writes <out-dir>/lkl/uapi.h (includes all entry headers) and
// <out-dir>/lkl/syscall-names.h ({ LKL___NR_x, "x" }, for each syscall).
//
// Comments and string literals are left untouched.  Files whose content did
// not change are not rewritten (so their mtimes stay and make does not
// rebuild), and stale files from earlier runs are removed.
//
// No dependencies; Node >= 20.

import fs from 'node:fs';
import path from 'node:path';

const TYPE_PREFIX = 'lkl_';
const MACRO_PREFIX = 'LKL_';

// C keywords (and GNU spellings) are never renamed even if a header
// #defines them.
const KEYWORDS = new Set(`auto break case char const continue default do
  double else enum extern float for goto if inline int long register restrict
  return short signed sizeof static struct switch typedef union unsigned void
  volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary
  _Noreturn _Static_assert _Thread_local asm typeof __asm__ __attribute__
  __extension__ __inline__ __inline __signed__ __volatile__ __const__
  __restrict__ __restrict __typeof__ __int128 __builtin_offsetof defined`
  .split(/\s+/));

// Standard C types that a few headers typedef under conditions that never
// hold on Linux (e.g. linux/coda.h for DJGPP) while others use the C
// library's: renaming them would break the users.
const LIBC_TYPES = new Set(`int8_t int16_t int32_t int64_t uint8_t uint16_t
  uint32_t uint64_t intptr_t uintptr_t size_t ptrdiff_t wchar_t`.split(/\s+/));

// Not defined by the headers, but renamed as if they were:
// - __GLIBC__: several headers (linux/stat.h, linux/libc-compat.h) leave out
//   definitions when they see glibc, because glibc's own copies would
//   clash.  Ours are all renamed, so they must never be left out; renaming
//   the test makes it always see "no glibc".
// - struct members that C libraries #define as macros (glibc and musl:
//   `#define st_atime st_atim.tv_sec`); left alone they would be expanded
//   inside our structs.  Host code spells them kst.lkl_st_atime.
const ALSO_UPPER = ['__GLIBC__'];
const ALSO_LOWER = ['st_atime', 'st_mtime', 'st_ctime', 'sa_handler',
  'sa_sigaction'];

// One regular expression splits C source into the tokens we care about.
// Capture groups: 1 comment, 2 string/char literal, 3 #include line,
// 4 number, 5 identifier; anything else is a single character.
const TOKEN = new RegExp([
  String.raw`(\/\*[\s\S]*?\*\/|\/\/[^\n]*)`,
  String.raw`("(?:\\[\s\S]|[^"\\\n])*"|'(?:\\[\s\S]|[^'\\\n])*')`,
  String.raw`(^[ \t]*#[ \t]*include\b[^\n]*)`,
  // pp-number, so suffixes such as the UL in 0x1UL are not identifiers
  String.raw`(\.?\d(?:[eEpP][+-]|[\w.])*)`,
  String.raw`([A-Za-z_]\w*)`,
  String.raw`([\s\S])`,
].join('|'), 'gm');

function* tokens(text) {
  for (const m of text.matchAll(TOKEN)) {
    const kind = m[1] !== undefined ? 'comment'
      : m[2] !== undefined ? 'string'
      : m[3] !== undefined ? 'include'
      : m[4] !== undefined ? 'number'
      : m[5] !== undefined ? 'ident' : 'other';
    yield { kind, text: m[0] };
  }
}

const INCLUDE = /^([ \t]*#[ \t]*include[ \t]*)([<"])([^>"]+)([>"])(.*)$/;

// Resolve an #include target to a path relative to the installed tree, or
// null if it is not in the tree (e.g. <stddef.h> from the compiler).
function resolveInclude(root, fromRel, delim, target) {
  const candidates = [target];
  if (delim === '"') candidates.unshift(path.posix.join(path.posix.dirname(fromRel), target));
  for (const rel of candidates) {
    const norm = path.posix.normalize(rel);
    if (!norm.startsWith('..') && fs.existsSync(path.join(root, norm))) return norm;
  }
  return null;
}

// --- Finding what a header defines -------------------------------------

// Index of the bracket matching the one at text[open].
function matchBracket(text, open) {
  const pairs = { '(': ')', '[': ']', '{': '}' };
  const stack = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  return text.length - 1;
}

// Remove every bracketed group opened by `open` (e.g. struct bodies).
function dropGroups(text, open) {
  let out = '';
  let i = 0;
  for (let j; (j = text.indexOf(open, i)) !== -1; i = matchBracket(text, j) + 1) {
    out += text.slice(i, j) + ' ';
  }
  return out + text.slice(i);
}

// Remove __attribute__((...)) including its arguments.
function dropAttributes(text) {
  for (let m; (m = /\b__attribute__\s*\(/.exec(text));) {
    const open = m.index + m[0].length - 1;
    text = text.slice(0, m.index) + ' ' + text.slice(matchBracket(text, open) + 1);
  }
  return text;
}

// Name declared by one typedef declarator, e.g. "unsigned int __u32",
// "void (*__sighandler_t)(int)", "int __kernel_fd_set[16]".
function declaratorName(decl) {
  let d = dropAttributes(decl);
  const fnPtr = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)/.exec(d);
  if (fnPtr) return fnPtr[1];
  d = dropGroups(d, '[');
  d = d.replace(/\s*\([^]*$/, ''); // parameters of a function type
  const ids = d.match(/[A-Za-z_]\w*/g) ?? [];
  for (let k = ids.length - 1; k >= 0; k--) if (!KEYWORDS.has(ids[k])) return ids[k];
  return null;
}

// Split at top-level commas (not inside parentheses/brackets/braces).
function splitTopLevel(text) {
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts;
}

// Adds the identifiers `text` defines to `lower` (to get lkl_) and `upper`
// (to get LKL_), both Sets.
function collectDefinitions(text, lower, upper) {
  // Work on a copy without comments or literals, with continued lines joined.
  let code = '';
  for (const t of tokens(text)) {
    code += t.kind === 'comment' ? ' ' : t.kind === 'string' ? '""' : t.text;
  }
  code = code.replace(/\\\n/g, ' ');

  const cLines = [];
  for (const line of code.split('\n')) {
    const def = /^\s*#\s*define\s+([A-Za-z_]\w*)/.exec(line);
    if (def) upper.add(def[1]);
    if (!/^\s*#/.test(line)) cLines.push(line);
  }
  const c = dropAttributes(cLines.join('\n'));

  // struct/union/enum tags defined (with a body) here.  Tags only referred
  // to, like struct sockaddr, are the C library's and stay.
  for (const m of c.matchAll(/\b(?:struct|union|enum)\s+([A-Za-z_]\w*)\s*\{/g)) lower.add(m[1]);

  // Functions defined in headers are all static (inline); the host's copy
  // of the same header would define the same name.
  for (const m of c.matchAll(/\bstatic\b[^{;=]*/g)) {
    const fn = /([A-Za-z_]\w*)\s*\(/.exec(m[0]);
    if (fn && !KEYWORDS.has(fn[1])) lower.add(fn[1]);
  }

  // Enum constants: the first identifier of each comma-separated item.
  for (const m of c.matchAll(/\benum\b(?:\s+[A-Za-z_]\w*)?\s*\{/g)) {
    const open = m.index + m[0].length - 1;
    const body = c.slice(open + 1, matchBracket(c, open));
    for (const item of splitTopLevel(body)) {
      const name = /^\s*([A-Za-z_]\w*)/.exec(item);
      if (name) upper.add(name[1]);
    }
  }

  // Typedef names: from "typedef" to the ";" outside any braces.
  for (const m of c.matchAll(/\btypedef\b/g)) {
    let end = m.index;
    while (end < c.length && c[end] !== ';') {
      end = c[end] === '{' ? matchBracket(c, end) + 1 : end + 1;
    }
    const decl = dropGroups(c.slice(m.index + 'typedef'.length, end), '{');
    // For "typedef int a, *b;" the first part also holds the base type;
    // declaratorName takes the last identifier, which is the name.
    for (const part of splitTopLevel(decl)) {
      const name = declaratorName(part);
      if (name) lower.add(name);
    }
  }
}

// --- Main ----------------------------------------------------------------

function main(argv) {
  if (argv.length < 3) {
    process.stderr.write('usage: gen-uapi-headers.mjs <installed-include-dir> <out-dir> <entry.h>...\n');
    return 2;
  }
  const [root, outDir, ...entries] = argv;

  // Read the closure of the entry headers under #include.  Every include
  // is followed, whatever #if it sits under, so all alternatives
  // (e.g. unistd_32.h and unistd_64.h) are present.
  const files = new Map(); // relative path -> { text, includes, lower, upper }
  const queue = [];
  for (const e of entries) {
    const rel = path.posix.normalize(e);
    if (!fs.existsSync(path.join(root, rel))) {
      process.stderr.write(`gen-uapi-headers: ${rel}: not found in ${root}\n`);
      return 1;
    }
    queue.push(rel);
  }
  while (queue.length) {
    const rel = queue.shift();
    if (files.has(rel)) continue;
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    const f = { text, includes: [], lower: new Set(), upper: new Set() };
    files.set(rel, f);
    for (const t of tokens(text)) {
      const inc = t.kind === 'include' && INCLUDE.exec(t.text);
      if (!inc) continue;
      const target = resolveInclude(root, rel, inc[2], inc[3]);
      if (target) f.includes.push(target);
      else process.stderr.write(`gen-uapi-headers: ${rel}: keeping #include ${inc[2]}${inc[3]}${inc[4]} (not in the tree)\n`);
    }
    queue.push(...f.includes);
    collectDefinitions(text, f.lower, f.upper);
  }

  // The new name of each defined name, decided once for the whole set.
  const renamed = new Map();
  const definedIn = new Map(); // name -> files defining it
  for (const [rel, f] of files) {
    for (const name of [...f.upper, ...f.lower]) {
      definedIn.set(name, [...(definedIn.get(name) ?? []), rel]);
    }
  }
  for (const f of files.values()) for (const name of f.upper) renamed.set(name, MACRO_PREFIX + name);
  for (const f of files.values()) for (const name of f.lower) renamed.set(name, TYPE_PREFIX + name); // types win
  for (const name of ALSO_UPPER) renamed.set(name, MACRO_PREFIX + name);
  for (const name of ALSO_LOWER) renamed.set(name, TYPE_PREFIX + name);
  for (const name of renamed.keys()) {
    // Keywords stay; so do names already in our namespace (e.g. the
    // lkl_-prefixed host_ops.h contract), so a second pass changes nothing.
    if (KEYWORDS.has(name) || LIBC_TYPES.has(name) || /^(lkl|LKL)_/.test(name)) {
      renamed.delete(name);
    }
  }

  // A file refers to a definition only if it can see it: in itself, in a
  // header it includes (transitively), or in one that includes it (the
  // arch's asm/fcntl.h defines HAVE_ARCH_STRUCT_FLOCK, then includes
  // asm-generic/fcntl.h which tests it).  Other uses of the same name mean
  // the C library's: linux/input.h wants <sys/time.h>'s struct timeval,
  // not the one linux/time.h defines.
  const closures = new Map();
  const closure = (rel) => {
    if (!closures.has(rel)) {
      const seen = new Set();
      const walk = (r) => { if (!seen.has(r)) { seen.add(r); files.get(r).includes.forEach(walk); } };
      walk(rel);
      closures.set(rel, seen);
    }
    return closures.get(rel);
  };

  const outputs = new Map(); // path under <out-dir>/lkl -> content
  for (const [rel, f] of files) {
    const related = new Set(closure(rel));
    for (const other of files.keys()) if (closure(other).has(rel)) related.add(other);
    const rename = (name) => {
      const defs = definedIn.get(name);
      const visible = !defs || defs.some((d) => related.has(d)); // !defs: ALSO_*
      return visible ? renamed.get(name) : undefined;
    };

    let out = '';
    const toks = [...tokens(f.text)];
    let params = new Set(); // parameters of the #define we are in, if any
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === 'other' && t.text === '\n' && toks[i - 1]?.text !== '\\') {
        params = new Set();
      } else if (t.text === 'define' && isDirectiveStart(toks, i - 1)) {
        params = macroParams(toks, i + 1);
      }
      if (t.kind === 'ident') {
        let name = rename(t.text);
        if (name === undefined && !params.has(t.text) && pastedOnto(toks, i)) {
          name = pastePrefix(renamed, t.text) + t.text;
        }
        out += name ?? t.text;
      } else if (t.kind === 'include') {
        const inc = INCLUDE.exec(t.text);
        const target = inc && resolveInclude(root, rel, inc[2], inc[3]);
        out += target ? `${inc[1]}<lkl/${target}>${inc[5]}` : t.text;
      } else {
        out += t.text;
      }
    }
    outputs.set(rel, out);
  }

  const banner = '/* Generated by linux/scripts/gen-uapi-headers.mjs; do not edit. */\n';
  outputs.set('uapi.h', banner
    + '#ifndef LKL_UAPI_H_\n#define LKL_UAPI_H_\n\n'
    + entries.map((e) => `#include <lkl/${path.posix.normalize(e)}>\n`).join('')
    + '\n#endif /* LKL_UAPI_H_ */\n');

  // Syscall numbers: every __NR_x macro, in order of first appearance.  Each
  // is wrapped in #ifdef because some are defined only under conditions
  // (the 32-bit table, __ARCH_WANT_*).  Not syscalls: __NR_syscalls (the
  // count) and __NR_arch_specific_syscall (the first arch-private number).
  const notSyscalls = new Set(['syscalls', 'arch_specific_syscall']);
  const nrs = new Set();
  for (const { text } of files.values()) {
    for (const m of text.matchAll(/^\s*#\s*define\s+__NR_([A-Za-z_]\w*)/gm)) {
      if (!notSyscalls.has(m[1])) nrs.add(m[1]);
    }
  }
  outputs.set('syscall-names.h', banner
    + '/* Include <lkl/uapi.h> first; use inside an array initialiser. */\n'
    + [...nrs].map((n) => `#ifdef LKL___NR_${n}\n{ LKL___NR_${n}, "${n}" },\n#endif\n`).join(''));

  const lklDir = path.join(outDir, 'lkl');
  for (const [rel, content] of outputs) {
    const file = path.join(lklDir, rel);
    let old = null;
    try { old = fs.readFileSync(file, 'utf8'); } catch { /* new file */ }
    if (old === content) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  removeStale(lklDir, '', outputs);
  return 0;
}

// --- Token helpers for the rewrite ----------------------------------------

function nextSolid(toks, i) {
  while (i < toks.length && (toks[i].kind === 'comment' || /^[ \t]$/.test(toks[i].text))) i++;
  return i;
}

// Is toks[i] a "#" that starts a preprocessor directive?
function isDirectiveStart(toks, i) {
  while (i >= 0 && toks[i].kind === 'other' && /^[ \t]$/.test(toks[i].text)) i--;
  if (toks[i]?.text !== '#') return false;
  for (i--; i >= 0 && /^[ \t]$/.test(toks[i].text); i--);
  return i < 0 || toks[i].text === '\n';
}

// Parameter names of "#define NAME(a, b)" where toks[i] follows "define".
function macroParams(toks, i) {
  const params = new Set();
  i = nextSolid(toks, i) + 1; // skip NAME
  if (toks[i]?.text !== '(') return params; // object-like macro
  for (i++; i < toks.length && toks[i].text !== ')'; i++) {
    if (toks[i].kind === 'ident') params.add(toks[i].text);
  }
  return params;
}

// Is toks[i] the left operand of the ## operator?
function pastedOnto(toks, i) {
  const j = nextSolid(toks, i + 1);
  return toks[j]?.text === '#' && toks[j + 1]?.text === '#';
}

// A name built by pasting, like NILFS_CPINFO_ ## flag, must get the prefix
// of the names it builds: take it from a defined name it begins.
function pastePrefix(renamed, stem) {
  for (const [name, to] of renamed) {
    if (name.startsWith(stem)) return to.slice(0, to.length - name.length);
  }
  return '';
}

// Delete files under dir that this run did not generate, and empty folders.
function removeStale(dir, rel, outputs) {
  for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) {
      removeStale(dir, r, outputs);
      if (fs.readdirSync(path.join(dir, r)).length === 0) fs.rmdirSync(path.join(dir, r));
    } else if (!outputs.has(r)) {
      fs.unlinkSync(path.join(dir, r));
    }
  }
}

process.exitCode = main(process.argv.slice(2));
