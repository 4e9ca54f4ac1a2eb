/**
 * The IDs of a reproducible image: the GPT disk GUID and partition GUIDs
 * (or the MBR's disk signature), each filesystem's UUID, hash seed and
 * mkfs random seed, and the kernel's random seed, all following from one
 * digest of what the image is made from: the epoch, the spec (table,
 * sizes, types, names, filesystems, labels, mkfs options), the owner and
 * group asked for, and what each source holds (mkimage-source.ts,
 * digestSource).  The same inputs give the same IDs, and images made
 * from different inputs get different ones, as UUIDs must.
 */
import { seedOf, uuidOf } from '../cli/reproducible.js';
import type { FormatIds } from './mkimage-format.js';
import type { ImageAsked } from './mkimage-spec.js';

export interface ImageIds {
	readonly diskGuid: string;
	/** The MBR's disk signature. */
	readonly diskId: number;
	/** The GUID of partition @index (0-based). */
	partitionGuid(index: number): string;
	/** What formatting partition @index (0-based) takes instead of drawing it. */
	format(index: number): FormatIds;
	/** The seed of the kernel that fills the filesystems. */
	readonly kernelSeed: Buffer;
}

/** What the spec asks for, without where the sources are (their content stands for them). */
function specText(spec: ImageAsked): string {
	return JSON.stringify({
		table: spec.table,
		size: spec.size,
		parts: spec.parts.map((p) => ({
			type: p.type, name: p.name ?? null, fs: p.fs, size: p.size, label: p.label ?? null,
			bootable: p.bootable ?? null, mkfsOptions: p.mkfsOptions, sources: p.from.length,
		})),
	});
}

/**
 * The IDs for @spec made at @epoch, whose partitions' sources have the
 * digests @sources (one list per partition, in order).
 */
export function imageIds(spec: ImageAsked, epoch: number, owner: { uid?: number; gid?: number },
	sources: readonly (readonly Buffer[])[]): ImageIds {
	const root = seedOf('lkl mkimage', String(epoch), specText(spec), JSON.stringify([owner.uid ?? null, owner.gid ?? null]),
		...sources.flat());
	const derive = (...what: string[]) => seedOf(root, ...what);
	return {
		diskGuid: uuidOf(derive('disk guid')),
		diskId: derive('mbr disk signature').readUInt32LE(0),
		partitionGuid: (i) => uuidOf(derive('partition guid', String(i))),
		format: (i) => ({
			epoch,
			uuid: uuidOf(derive('filesystem uuid', String(i))),
			hashSeed: uuidOf(derive('filesystem hash seed', String(i))),
			randomSeed: derive('mkfs random seed', String(i)).subarray(0, 8),
		}),
		kernelSeed: derive('kernel random seed'),
	};
}
