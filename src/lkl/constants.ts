// Numbers callers may need that node:fs has no name for.

/** Mount flags for MountOptions.flags (Linux MS_*). */
export const MountFlags = {
	/** Read-only (what readOnly: true sets). */
	RDONLY: 1,
	/** Ignore setuid and setgid bits. */
	NOSUID: 2,
	/** No access to device files. */
	NODEV: 4,
	/** No execution of programs. */
	NOEXEC: 8,
	/** Every write is synchronous. */
	SYNCHRONOUS: 16,
	/** Do not update access times. */
	NOATIME: 1024,
	/** Do not update directory access times. */
	NODIRATIME: 2048,
	/** Update access times only when older than modification times. */
	RELATIME: 1 << 21,
} as const;

/** setxattr flags: fail if the attribute exists (CREATE) or does not (REPLACE). */
export const XattrFlags = {
	CREATE: 1,
	REPLACE: 2,
} as const;
