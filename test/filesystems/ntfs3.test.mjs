// SPDX-License-Identifier: GPL-2.0
//
// ntfs3: every command on an image of it (check.mjs, cases.mjs).
import t from 'tap';
import { checkFilesystem } from './check.mjs';

t.setTimeout(600_000);
checkFilesystem(t, 'ntfs3');
