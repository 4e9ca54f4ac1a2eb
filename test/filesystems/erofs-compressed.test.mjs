// SPDX-License-Identifier: GPL-2.0
//
// erofs compressed with lz4hc: every command on an image of it
// (check.mjs, cases.mjs).
import t from 'tap';
import { checkFilesystem } from './check.mjs';

t.setTimeout(600_000);
checkFilesystem(t, 'erofsLz4hc');
