/**
 * A mounted filesystem's label and UUID as the kernel gives them, through
 * the FS_IOC_GETFSLABEL and FS_IOC_GETFSUUID ioctls (native/addon/fs_ids.cc),
 * for `lkl info` (src/image/info.ts).
 *
 * The kernel is asked first: it has checked the superblock it read, and
 * it answers for filesystems whose layout lkl does not know.  Linux 6.12
 * answers both for ext4 and xfs, the label alone for btrfs (which does
 * not publish its UUID for that call), and the UUID alone for vfat (its
 * 4-byte volume serial; vfat has no label call).  What it leaves out is
 * read from the superblock's bytes (src/image/probe.ts).  An addon built
 * before it had this call answers nothing, and the superblock is read for
 * all.
 */
import type { Mount } from './mount.js';
import { accessOf } from './mount-access.js';
import { native } from './native.js';
import { runAsync, sys } from './steps.js';

export interface FsIds {
	readonly label?: string;
	readonly uuid?: string;
}

/** The UUID as blkid writes it: 16 bytes in 8-4-4-4-12 form; a 4-byte volume serial (FAT's) as XXXX-XXXX. */
function uuidText(bytes: Buffer): string {
	if (bytes.length === 4) {
		const serial = bytes.readUInt32LE(0).toString(16).toUpperCase().padStart(8, '0');
		return `${serial.slice(0, 4)}-${serial.slice(4)}`;
	}
	const h = bytes.toString('hex');
	if (bytes.length !== 16)
		return h;
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** What the kernel says of @mount's label and UUID. */
export async function kernelFsIds(mount: Mount): Promise<FsIds> {
	if (typeof (native as Partial<typeof native>).fsIds !== 'function')
		return {};
	const { rootFd, gate } = accessOf(mount);
	const ids = await gate.run('ioctl', () => runAsync(sys('fsIds', [rootFd], 'ioctl')));
	return {
		...(ids.label && ids.label.length ? { label: ids.label.toString('utf8') } : {}),
		...(ids.uuid && /[^0]/.test(ids.uuid.toString('hex')) ? { uuid: uuidText(ids.uuid) } : {}),
	};
}
