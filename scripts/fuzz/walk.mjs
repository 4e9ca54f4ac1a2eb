// SPDX-License-Identifier: GPL-2.0
// node walk.mjs <dir>: visits everything under a mount as a user's tools
// would (lstat, readdir, readlink, read), without following symlinks, and
// prints { entries, errors: { CODE: count }, gone } as JSON; `gone` if
// the mount stopped answering (its server died).  A separate process, so
// that the fuzzer can kill it when a request never returns.
import * as fs from 'node:fs';
import { join } from 'node:path';

// A damaged inode may claim any size, and a directory any number of
// entries: read only so much, so that a slow walk means a stuck server.
const READ_LIMIT = 4 << 20;
const ENTRY_LIMIT = 20000;
const GONE = new Set(['ENOTCONN', 'ECONNABORTED', 'ENODEV']);

const errors = {};
let entries = 0;
let gone = false;

function failed(err) {
	const code = err.code ?? String(err);
	errors[code] = (errors[code] ?? 0) + 1;
	if (GONE.has(code))
		gone = true;
}

function readSome(path) {
	const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
	try {
		const buf = Buffer.alloc(1 << 16);
		for (let done = 0; done < READ_LIMIT;) {
			const n = fs.readSync(fd, buf, 0, buf.length, null);
			if (n === 0)
				break;
			done += n;
		}
	} finally {
		fs.closeSync(fd);
	}
}

function visit(path) {
	if (gone || entries >= ENTRY_LIMIT)
		return;
	entries++;
	let st;
	try {
		st = fs.lstatSync(path);
	} catch (err) {
		return failed(err);
	}
	try {
		if (st.isSymbolicLink()) {
			fs.readlinkSync(path);
		} else if (st.isFile()) {
			readSome(path);
		} else if (st.isDirectory()) {
			for (const name of fs.readdirSync(path))
				visit(join(path, name));
		}
	} catch (err) {
		failed(err);
	}
}

visit(process.argv[2]);
process.stdout.write(`${JSON.stringify({ entries, errors, gone })}\n`);
