/**
 * The host programs mkimage runs (each filesystem's mkfs, zstd), found
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
