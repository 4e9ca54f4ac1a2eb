/**
 * The host programs mkimage runs (each filesystem's mkfs, zstd), and the
 * library a reproducible image's mkfs runs with (libfaketime), found
 * before anything is written so that a missing one is one line naming
 * the Debian package that has it.  /usr/sbin and /sbin are searched too:
 * mkfs programs live there, and an ordinary user's PATH often lacks them.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SpecError } from './mkimage-spec.js';

/** A program and the Debian package it comes in. */
export interface Tool {
	readonly program: string;
	readonly debianPackage: string;
}

export const TOOLS = {
	ext4: { program: 'mkfs.ext4', debianPackage: 'e2fsprogs' },
	xfs: { program: 'mkfs.xfs', debianPackage: 'xfsprogs' },
	btrfs: { program: 'mkfs.btrfs', debianPackage: 'btrfs-progs' },
	vfat: { program: 'mkfs.fat', debianPackage: 'dosfstools' },
	zstd: { program: 'zstd', debianPackage: 'zstd' },
} as const satisfies Record<string, Tool>;

/*
 * libfaketime, which a reproducible image's mkfs programs run with
 * (LD_PRELOAD): its clock stopped at the epoch, its getrandom() a
 * sequence from a seed, and a fixed process ID, since btrfs-progs and
 * xfsprogs have no option for the times and IDs they draw (see
 * mkimage-format.ts).  Debian puts it under the multiarch directory.
 */
export const FAKETIME: Tool = { program: 'libfaketime.so.1', debianPackage: 'libfaketime' };

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/** The path of libfaketime, or undefined when it is not installed. */
export function findFaketime(): string | undefined {
	const triplet = MULTIARCH[process.arch];
	const dirs = [...(triplet ? [`/usr/lib/${triplet}/faketime`] : []), '/usr/lib/faketime', '/usr/local/lib/faketime'];
	return dirs.map((dir) => join(dir, FAKETIME.program)).find((path) => {
		try {
			accessSync(path, constants.R_OK);
			return true;
		} catch {
			return false;
		}
	});
}

/** The path of libfaketime; a SpecError naming its package when it is missing. */
export function needFaketime(why: string): string {
	const path = findFaketime();
	if (!path)
		throw new SpecError(`${why} needs ${FAKETIME.program}, which is not installed (Debian package ${FAKETIME.debianPackage})`);
	return path;
}

/** The path of @tool's program, or undefined when it is not installed. */
export function findTool(tool: Tool): string | undefined {
	const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
	for (const dir of dirs) {
		const path = join(dir, tool.program);
		try {
			accessSync(path, constants.X_OK);
			return path;
		} catch {
			// not here
		}
	}
	return undefined;
}

/** The path of @tool's program; a SpecError naming its package when it is missing. */
export function needTool(tool: Tool, why: string): string {
	const path = findTool(tool);
	if (!path)
		throw new SpecError(`${why} needs ${tool.program}, which is not installed (Debian package ${tool.debianPackage})`);
	return path;
}
